/**
 * The package version, for identify's agent version and the CLI. package.json is the source;
 * this copy exists because browsers cannot read package.json at run time, and
 * test/util/version.test.ts fails the moment the two differ.
 */
export const VERSION = '0.1.0'
