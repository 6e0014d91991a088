export function greeting(who: string): string {
  return `loaded through ${who}`;
}
