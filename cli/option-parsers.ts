import { InvalidArgumentError } from 'commander';

/** A repeatable option whose values may also be comma-separated: `--san a,b --san c` → [a, b, c]. */
export const commaList = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

export const wholeNumber = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
};

export const from1To999 = (value: string): number => {
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new InvalidArgumentError('must be a whole number from 1 to 999');
  return Number(value);
};

export const onOff = (value: string): boolean => {
  if (!/^(on|off|true|false|yes|no)$/i.test(value)) throw new InvalidArgumentError('must be on or off');
  return /^(on|true|yes)$/i.test(value);
};
