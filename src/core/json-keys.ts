/**
 * Object keys as Go's encoding/json reads them. Go matches a JSON key to a struct field
 * case-insensitively (bytes.EqualFold: Unicode simple folding, so "ſ" is "s" and the Kelvin sign
 * "K" is "k"), and when several keys match one field, or a key repeats in a map, the last one
 * wins. JSON.parse keeps only exact matches. Where the two readings could differ, koncli refuses
 * the data (exit 9) instead of reading it otherwise than its writer does.
 */

/** A key folded as bytes.EqualFold compares it (close enough to only ever refuse more, never less). */
export const foldKey = (key: string) => key.toUpperCase().toLowerCase();

/**
 * The struct fields (as their writer spells them) of the object at `path` (the keys leading to it;
 * array elements as "[]"), or undefined for a map or a value nobody decodes as a struct.
 */
export type StructFields = (path: readonly string[]) => readonly string[] | undefined;

/**
 * The first problem with the keys of `text` (already known to be valid JSON): a key that repeats in
 * any object, two keys of a struct that fold to the same field, or a key that folds to a field but is
 * spelt otherwise. Undefined when every reader reads the same object.
 */
export function keyProblem(text: string, structFields: StructFields): string | undefined {
  let i = 0;
  let problem: string | undefined;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const comma = () => {
    if (text[i] !== ',') return;
    i++;
    ws();
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const where = (path: readonly string[]) => (path.length ? ` in ${path.join('.')}` : '');
  const object = (path: string[]) => {
    const fields = structFields(path);
    const seen = new Map<string, string>();
    i++;
    for (ws(); text[i] !== '}' && !problem; ws()) {
      comma();
      const key = str();
      const folded = fields ? foldKey(key) : key;
      const other = seen.get(folded);
      const field = fields?.find((f) => foldKey(f) === folded);
      if (other !== undefined)
        problem =
          other === key
            ? `repeats the key ${JSON.stringify(key)}${where(path)}`
            : `has the keys ${JSON.stringify(other)} and ${JSON.stringify(key)}${where(path)}, which Go reads as one field`;
      else if (field !== undefined && field !== key) problem = `has the key ${JSON.stringify(key)}${where(path)}, which Go reads as ${JSON.stringify(field)}`;
      seen.set(folded, key);
      ws();
      i++; // ':'
      ws();
      value([...path, key]);
    }
    i++;
  };
  const value = (path: string[]) => {
    if (text[i] === '{') return object(path);
    if (text[i] === '"') return void str();
    if (text[i] === '[') {
      i++;
      for (ws(); text[i] !== ']' && !problem; ws()) {
        comma();
        value([...path, '[]']);
      }
      i++;
      return;
    }
    while (i < text.length && !',]} \t\n\r'.includes(text[i])) i++;
  };
  ws();
  value([]);
  return problem;
}
