/**
 * A record as it may leave the core: every sealed secret and every password verifier removed, by type and at
 * run time.
 */
type Hidden = `${string}Sealed` | `${string}Verifier`;
export type PublicView<T> = { [K in keyof T as K extends Hidden ? never : K]: T[K] };

export function publicView<T extends object>(record: T): PublicView<T> {
  return Object.fromEntries(
    Object.entries(record).filter(([key]) => !key.endsWith('Sealed') && !key.endsWith('Verifier')),
  ) as PublicView<T>;
}
