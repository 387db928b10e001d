/**
 * The API tests use: `withBrowserPage(entry, async page => ...)` bundles `entry` (a .ts module
 * whose exports the test calls), serves it from 127.0.0.1, opens it in a fresh Chromium and
 * always tears everything down, leaving no Chromium process. The page's console and uncaught
 * errors are collected and forwarded: live to `options.log` when given (or to stderr with
 * DEBUG_BROWSER=1), and appended to the error when the test fails. An uncaught error in the
 * page fails the test unless `allowPageErrors`.
 *
 * `withBrowser(entry, async session => ...)` is the general form: several pages, each in its own
 * browser context (its own IndexedDB), in one Chromium.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { bundleForBrowser } from './bundle.ts'
import type { BundleOptions } from './bundle.ts'
import { launchChromium } from './chromium.ts'
import type { LaunchChromiumOptions, RunningChromium } from './chromium.ts'
import { startPageServer } from './page-server.ts'
import type { BrowserLab } from './browser-lab.ts'
import { processLines } from '../lab/index.ts'
import type { ProcessLines } from '../lab/index.ts'

export interface TestPage {
  /** The Playwright page, for anything the helpers below do not cover. */
  readonly page: Page
  /** http://127.0.0.1:PORT the page was loaded from. */
  readonly origin: string
  /** Calls the entry module's export `name` in the page and returns its (serialisable) result. */
  call<T = unknown>(name: string, ...args: unknown[]): Promise<T>
  /** Reloads the page and waits until the entry module loaded again. */
  reload(): Promise<void>
  /** Console lines so far, as `[page N] type: text`. */
  readonly consoleLines: readonly string[]
  /** Uncaught errors and unhandled rejections in the page so far. */
  readonly pageErrors: readonly string[]
}

export interface BrowserSession {
  readonly chromium: RunningChromium
  readonly origin: string
  /** Opens the page in a new browser context (fresh storage) and waits for the entry module. */
  openPage(): Promise<TestPage>
}

export interface BrowserPageOptions extends BundleOptions, Omit<LaunchChromiumOptions, 'namespace'> {
  /** Run Chromium (and the page server) inside this lab's browser namespace (WebRTC tests). */
  lab?: BrowserLab
  /** Called with every console line and page error as it happens. */
  log?: (line: string) => void
  /** Do not fail the test on uncaught errors in the page. */
  allowPageErrors?: boolean
  /** How long the entry module may take to load (default 30 s). */
  loadTimeoutMs?: number
}

const CONSOLE_LINES_ON_FAILURE = 80

/**
 * A module to bundle (path or file URL), an already built ES module's text (`{ script }`), or
 * a page someone else serves (`{ url }`, e.g. an example's own server), which must set
 * `globalThis.entry` and `globalThis.entryState` as PAGE_HTML does.
 */
export type PageEntry = string | URL | { script: string } | { url: string }

export async function withBrowserPage<T> (entry: PageEntry, fn: (page: TestPage) => Promise<T>, options: BrowserPageOptions = {}): Promise<T> {
  return await withBrowser(entry, async session => await fn(await session.openPage()), options)
}

export async function withBrowser<T> (entry: PageEntry, fn: (session: BrowserSession) => Promise<T>, options: BrowserPageOptions = {}): Promise<T> {
  const served = typeof entry === 'object' && 'url' in entry ? entry.url : undefined
  const bundle = served !== undefined
    ? ''
    : typeof entry === 'object' && 'script' in entry
      ? entry.script
      : await bundleForBrowser(typeof entry === 'string' ? entry : fileURLToPath(entry as string | URL), { minify: options.minify, define: options.define })
  const log = options.log ?? (process.env.DEBUG_BROWSER === '1' ? (line: string) => { process.stderr.write(line + '\n') } : undefined)
  const pages: TestPage[] = []
  const server: ServedPage = served !== undefined ? { origin: served.replace(/\/$/, ''), close: async () => {} } : await servePage(bundle, options.lab)
  let chromium: RunningChromium | undefined
  try {
    chromium = await launchChromium({ ...options, namespace: options.lab?.browserNamespace.name })
    const running = chromium
    const session: BrowserSession = {
      chromium: running,
      origin: server.origin,
      async openPage () {
        const context = await running.browser.newContext()
        // registered before it loads, so a page that fails to load still shows its console
        return await openTestPage(await context.newPage(), server.origin, pages.length, options.loadTimeoutMs ?? 30_000, log, p => { pages.push(p) })
      }
    }
    const result = await fn(session)
    const errors = pages.flatMap(p => p.pageErrors)
    if (errors.length > 0 && options.allowPageErrors !== true) throw new Error(`uncaught errors in the page:\n${errors.join('\n')}`)
    return result
  } catch (err) {
    const lines = pages.flatMap(p => [...p.consoleLines, ...p.pageErrors.map(e => `[page error] ${e}`)]).slice(-CONSOLE_LINES_ON_FAILURE)
    if (lines.length > 0 && err instanceof Error) {
      const pageConsole = `\n--- page console (last ${lines.length} lines) ---\n${lines.join('\n')}`
      err.message += pageConsole
      // test reporters print the stack, which was written when the error was made
      if (err.stack !== undefined) err.stack += pageConsole
    }
    throw err
  } finally {
    await chromium?.close()
    await server.close()
  }
}

async function openTestPage (page: Page, origin: string, index: number, loadTimeoutMs: number, log: ((line: string) => void) | undefined, register: (page: TestPage) => void): Promise<TestPage> {
  const consoleLines: string[] = []
  const pageErrors: string[] = []
  page.on('console', message => {
    const line = `[page ${index}] ${message.type()}: ${message.text()}`
    consoleLines.push(line)
    log?.(line)
  })
  page.on('pageerror', error => {
    const text = error.stack ?? error.message
    pageErrors.push(text)
    log?.(`[page ${index}] uncaught: ${text}`)
  })
  const waitForEntry = async (): Promise<void> => {
    await page.waitForFunction(() => (globalThis as { entryState?: string }).entryState !== undefined, undefined, { timeout: loadTimeoutMs })
    const state = await page.evaluate(() => (globalThis as { entryState?: string }).entryState)
    if (state !== 'ready') throw new Error(`the page's entry module failed to load: ${state}`)
  }
  const testPage: TestPage = {
    page,
    origin,
    async call<T> (name: string, ...args: unknown[]): Promise<T> {
      return await page.evaluate(async ([name, args]) => {
        const entry = (globalThis as { entry?: Record<string, unknown> }).entry ?? {}
        const exported = entry[name as string]
        if (typeof exported !== 'function') throw new Error(`the entry module exports no function "${name as string}"`)
        return await (exported as (...a: unknown[]) => unknown)(...(args as unknown[]))
      }, [name, args] as const) as T
    },
    async reload () {
      await page.reload({ timeout: loadTimeoutMs })
      await waitForEntry()
    },
    consoleLines,
    pageErrors
  }
  register(testPage)
  await page.goto(origin + '/', { timeout: loadTimeoutMs })
  await waitForEntry()
  return testPage
}

interface ServedPage { origin: string, close(): Promise<void> }

/** In-process on 127.0.0.1, or as a process inside the lab's browser namespace (its own loopback). */
async function servePage (bundle: string, lab: BrowserLab | undefined): Promise<ServedPage> {
  if (lab === undefined) return await startPageServer(bundle)
  const dir = mkdtempSync(join(tmpdir(), 'ts-libp2p-page-'))
  writeFileSync(join(dir, 'entry.js'), bundle)
  let server: ProcessLines | undefined
  try {
    server = processLines(lab.browserNamespace.spawn(process.execPath, [fileURLToPath(new URL('./page-server.ts', import.meta.url)), dir]))
    // generous: a loaded 2-core machine can take seconds to start a Node process
    const line = await server.nextLine(l => l.startsWith('listening '), 60_000)
    const running = server
    return {
      origin: `http://127.0.0.1:${line.slice('listening '.length)}`,
      async close () { await running.stop(); rmSync(dir, { recursive: true, force: true }) }
    }
  } catch (err) {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}
