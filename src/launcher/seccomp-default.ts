// The default seccomp profile (profiles/seccomp-default.json) checked and
// spelled out as ./seccomp.ts's PreparedSeccomp, in JSON. null here: seccomp.ts
// then prepares it from the profile at each launch (~2 ms of cold code). The
// launcher bundle replaces this module (bin/build-launcher.mjs) with one that
// reads what the build prepared, dist/launch/seccomp-default.json, a build
// output beside the bundle's code with the same owner and trust; so a `tstop run`
// from bin/tstop only reduces it for the container's capabilities and the host
// (docs/launcher.md, "The default seccomp profile"). A rebuild picks up an edit
// of the profile.

/** PreparedSeccomp of the default profile as JSON, or null: prepare it from the profile. */
export function preparedDefaultSeccomp(): string | null {
  return null;
}
