// Modules the build provides (scripts/build.mjs, scripts/package.mjs).

/** A file's text, embedded at build time (esbuild's text loader), e.g. the CRD manifest. */
declare module '*.yaml' {
  const text: string;
  export default text;
}

/** The single executable's command classes by oclif id, generated from src/commands/** (scripts/package.mjs). */
declare module 'koncli:commands' {
  export const commands: Record<string, import('@oclif/core').Command.Class>;
}
