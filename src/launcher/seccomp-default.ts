// The default seccomp profile (profiles/seccomp-default.json) checked and
// spelled out as ./seccomp.ts's PreparedSeccomp, in JSON. null here: seccomp.ts
// then prepares it from the file at each launch (~1.5 ms of cold code). The
// launcher bundle replaces this module with the build's result
// (bin/build-launcher.mjs), so a `tstop run` from bin/tstop only reduces it for
// the container's capabilities and the host (docs/launcher.md, Security). The
// profile is code then: like the rest of the bundle, a rebuild picks up a
// change to the file.

/** PreparedSeccomp of the default profile as JSON, or null: prepare it from the file. */
export const PREPARED_DEFAULT_SECCOMP: string | null = null;
