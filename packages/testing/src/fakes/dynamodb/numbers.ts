/**
 * DynamoDB numbers: up to 38 significant digits, magnitudes from 1E-130 to below 1E+126, stored
 * normalised (no exponent, no leading or trailing zeros) and compared and added exactly.
 */
import { ModelValidationError } from './model-validation-error';

/** An exact decimal: `mantissa × 10^scale`, with no trailing zero in `mantissa` (0 has scale 0). */
export interface Decimal {
  readonly mantissa: bigint;
  readonly scale: number;
}

const NUMBER_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const MAX_SIGNIFICANT_DIGITS = 38;
/** The largest exponent of the leading digit (9.99…E+125). */
const MAX_LEADING_EXPONENT = 125;
/** The smallest exponent of the leading digit (1E-130). */
const MIN_LEADING_EXPONENT = -130;

/** Parses and range-checks a number as DynamoDB does; throws a {@link ModelValidationError} otherwise. */
export function parseNumber(text: string): Decimal {
  const match = typeof text === 'string' ? NUMBER_PATTERN.exec(text) : null;
  const integerPart = match?.[2] ?? '';
  const fractionPart = match?.[3] ?? '';
  if (!match || (integerPart === '' && fractionPart === '')) {
    throw new ModelValidationError('A value provided cannot be converted into a number');
  }
  const exponent = match[4] === undefined ? 0 : Number(match[4]);
  let digits = `${integerPart}${fractionPart}`.replace(/^0+/, '');
  let scale = exponent - fractionPart.length;
  if (digits === '') return { mantissa: 0n, scale: 0 };
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  scale += trailing;
  if (digits.length > MAX_SIGNIFICANT_DIGITS) {
    throw new ModelValidationError('Attempting to store more than 38 significant digits in a Number');
  }
  const leadingExponent = scale + digits.length - 1;
  if (leadingExponent > MAX_LEADING_EXPONENT) {
    throw new ModelValidationError(
      'Number overflow. Attempting to store a number with magnitude larger than supported range',
    );
  }
  if (leadingExponent < MIN_LEADING_EXPONENT) {
    throw new ModelValidationError(
      'Number underflow. Attempting to store a number with magnitude smaller than supported range',
    );
  }
  const mantissa = BigInt(digits);
  return { mantissa: match[1] === '-' ? -mantissa : mantissa, scale };
}

/** The canonical text DynamoDB returns for a number: plain notation, no redundant zeros. */
export function formatNumber(value: Decimal): string {
  if (value.mantissa === 0n) return '0';
  const negative = value.mantissa < 0n;
  const digits = (negative ? -value.mantissa : value.mantissa).toString();
  let text: string;
  if (value.scale >= 0) text = digits + '0'.repeat(value.scale);
  else {
    const point = digits.length + value.scale;
    text =
      point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
  }
  return negative ? `-${text}` : text;
}

/** The normalised text of a number, after checking it is one DynamoDB can store. */
export function normalizeNumber(text: string): string {
  return formatNumber(parseNumber(text));
}

/** The number of significant digits (at least 1). */
export function significantDigits(value: Decimal): number {
  if (value.mantissa === 0n) return 1;
  return (value.mantissa < 0n ? -value.mantissa : value.mantissa).toString().length;
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.min(a.scale, b.scale);
  return [a.mantissa * 10n ** BigInt(a.scale - scale), b.mantissa * 10n ** BigInt(b.scale - scale), scale];
}

/** Integers of up to 15 digits, exactly representable as doubles. */
const INTEGER = /^-?\d{1,15}$/;

/** Numeric order of two numbers: negative, zero or positive. */
export function compareNumbers(a: string, b: string): number {
  if (INTEGER.test(a) && INTEGER.test(b)) {
    // Fast path for the common case (versions, counters): exact as doubles.
    const difference = Number(a) - Number(b);
    return difference < 0 ? -1 : difference > 0 ? 1 : 0;
  }
  const [x, y] = align(parseNumber(a), parseNumber(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

function normalize(mantissa: bigint, scale: number): Decimal {
  if (mantissa === 0n) return { mantissa: 0n, scale: 0 };
  let m = mantissa;
  let s = scale;
  while (m % 10n === 0n) {
    m /= 10n;
    s += 1;
  }
  return { mantissa: m, scale: s };
}

/** `a + b` (or `a - b` with `subtract`), exact, range-checked like a stored number. */
export function addNumbers(a: string, b: string, subtract = false): string {
  const [x, y, scale] = align(parseNumber(a), parseNumber(b));
  const sum = normalize(subtract ? x - y : x + y, scale);
  // Re-parse to apply the 38-digit and magnitude limits to the result.
  return normalizeNumber(formatNumber(sum));
}
