// dist/oclif.js: the part of @oclif/core that bin/run.js calls, bundled (see scripts/build.mjs).
export { execute } from '@oclif/core';
