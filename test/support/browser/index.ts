/**
 * The Chromium harness: real Chromium (Debian's package) driven by playwright-core, pages and
 * esbuild bundles served from 127.0.0.1, optionally inside network namespaces for WebRTC.
 * Start with `chromiumSkip()` (or `chromiumInNamespaceSkip()`) and `withBrowserPage()`;
 * README.md in this directory shows a whole test.
 */
export { withBrowserPage, withBrowser } from './with-page.ts'
export type { TestPage, BrowserSession, BrowserPageOptions, PageEntry } from './with-page.ts'
export { chromiumSkip, chromiumInNamespaceSkip, chromiumUnavailableReason, CHROMIUM_PATH } from './availability.ts'
export { launchChromium, processGroupMembers, CHROMIUM_ARGS, NO_SDP_MUNGING_TRIAL } from './chromium.ts'
export type { LaunchChromiumOptions, RunningChromium } from './chromium.ts'
export { bundleForBrowser, rejectNodeBuiltins, BrowserBundleError } from './bundle.ts'
export type { BundleOptions } from './bundle.ts'
export { createBrowserLab, BROWSER_ADDRESS, PEER_ADDRESS } from './browser-lab.ts'
export type { BrowserLab, BrowserLabOptions } from './browser-lab.ts'
export { startPageServer } from './page-server.ts'
