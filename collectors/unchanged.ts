// An idle cgroup's figures do not change from tick to tick: the collectors
// whose objects carry no rates hand back the previous tick's object then,
// instead of a new one that lives as long. Snapshots are read-only, so the
// two snapshots sharing it is safe; the young garbage is the copy just built.

/** Compares objects of one type (flat: numbers, strings, null, shared objects), field by field. */
export class Unchanged<T extends object> {
  /** The type's fields, from the first object seen (every object of the type has them all). */
  private keys: (keyof T)[] | null = null;

  /** before when every field of now equals it, else now. */
  or(now: T, before: T | null | undefined): T {
    if (!before) return now;
    const keys = (this.keys ??= Object.keys(now) as (keyof T)[]);
    for (let i = 0; i < keys.length; i++) if (now[keys[i]] !== before[keys[i]]) return now;
    return before;
  }
}
