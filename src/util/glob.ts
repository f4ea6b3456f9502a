// Glob patterns where `*` matches any run of characters and everything else is literal (exception
// selectors, image ignore lists). Matched without regular expressions: a pattern such as
// `*a*a*a*a*b` would make a backtracking regex take seconds on a long name; this walk is O(n*m)
// at worst, resuming from the last `*` on a mismatch.
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** A matcher for any of the patterns, or undefined when there are none (no constraint). */
export function globMatcher(patterns: string[] | undefined): ((value: string) => boolean) | undefined {
  if (!patterns?.length) return undefined;
  return (value) => patterns.some((pattern) => globMatch(pattern, value));
}
