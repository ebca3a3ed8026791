// Modules the build provides (scripts/build.mjs, scripts/package.mjs).

/** A file's text, embedded at build time (esbuild's text loader), e.g. the CRD manifest. */
declare module '*.yaml' {
  const text: string;
  export default text;
}

/**
 * The single executable's oclif plugins (scripts/package.mjs): koncli and @oclif/plugin-help, each
 * with its package.json and command manifest as read at build time, and a loader per command id
 * that evaluates the command's module on first use.
 */
declare module 'koncli:plugins' {
  export interface EmbeddedPlugin {
    isRoot: boolean;
    pjson: import('@oclif/core').Interfaces.PJSON;
    manifest: import('@oclif/core').Interfaces.Manifest;
    commands: Record<string, () => Promise<import('@oclif/core').Command.Class>>;
  }
  export const plugins: EmbeddedPlugin[];
}

/**
 * lease run's watchdog in the single executable (scripts/package.mjs): src/supervise/watchdog.ts
 * when the tree has it; until then a module whose main() says the build has none and exits 1.
 */
declare module 'koncli:watchdog' {
  export function main(): unknown;
}
