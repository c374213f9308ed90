/** A record as it may leave the core: every sealed secret column removed by type and at run time. */
export type PublicView<T> = { [K in keyof T as K extends `${string}Sealed` ? never : K]: T[K] };

export function publicView<T extends object>(record: T): PublicView<T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !key.endsWith('Sealed'))) as PublicView<T>;
}
