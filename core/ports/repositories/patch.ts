/** An update's fields: anything but the identity and the timestamps the repository keeps. */
export type Patch<T> = Partial<Omit<T, 'id' | 'createdAt' | 'updatedAt'>>;
