export * from './codec.js';
export * from './model.js';
export * from './decide.js';
export * from './acquire.js';
export * from './release.js';
export * from './describe.js';
