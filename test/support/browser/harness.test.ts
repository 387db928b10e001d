/**
 * The Chromium harness itself: a bundled page is served from 127.0.0.1 and called, its console
 * and uncaught errors reach the test, a Node built-in in a browser graph fails the bundle, no
 * Chromium process outlives the test, and the namespace mode gives the page a network where
 * WebRTC gathers candidates and reaches a Node process in the peer (or the same) namespace.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { execFileSync } from 'node:child_process'
import { BrowserBundleError, NO_SDP_MUNGING_TRIAL, bundleForBrowser, chromiumInNamespaceSkip, chromiumSkip, createBrowserLab, processGroupMembers, withBrowser, withBrowserPage } from './index.ts'

const PAGE = new URL('./fixtures/harness-page.ts', import.meta.url)
const ECHO_SERVER = fileURLToPath(new URL('./fixtures/ws-echo-server.ts', import.meta.url))

describe('the Chromium harness', { skip: chromiumSkip() }, () => {
  it('serves the bundle from 127.0.0.1, calls its exports, forwards the console and leaves no Chromium process', async () => {
    const forwarded: string[] = []
    let pid = 0
    const sum = await withBrowser(PAGE, async session => {
      pid = session.chromium.pid
      assert.ok(processGroupMembers(pid).length > 0, 'Chromium runs while the test does')
      const page = await session.openPage()
      assert.match(page.origin, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.equal(await page.call('isSecureContext'), true)
      await page.call('say', 'hello from the page')
      await page.page.waitForFunction(() => true) // one more round trip: console events are async
      assert.ok(page.consoleLines.some(line => line.endsWith('log: hello from the page')), page.consoleLines.join('\n'))
      return await page.call<number>('add', 2, 3)
    }, { log: line => forwarded.push(line) })
    assert.equal(sum, 5)
    assert.ok(forwarded.some(line => line.includes('hello from the page')))
    assert.deepEqual(processGroupMembers(pid), [], 'no Chromium process is left')
  })

  it('fails the test on an uncaught error in the page, with the page console in the message', async () => {
    await assert.rejects(withBrowserPage(PAGE, async page => {
      await page.call('say', 'before the error')
      await page.call('throwUncaught', 'boom in the page')
      await page.page.waitForFunction(() => true)
    }), (err: Error) => /uncaught errors in the page/.test(err.message) && /boom in the page/.test(err.message) && /before the error/.test(err.message))
  })

  it('a failing test still tears Chromium down', async () => {
    let pid = 0
    await assert.rejects(withBrowser(PAGE, async session => {
      pid = session.chromium.pid
      await session.openPage()
      throw new Error('the test failed')
    }), /the test failed/)
    assert.ok(pid > 0)
    assert.deepEqual(processGroupMembers(pid), [])
  })

  it('passes field trials: SDP munging of the ufrag works by default and throws with the no-munging trial forced', async () => {
    assert.equal(await withBrowserPage(PAGE, async page => await page.call('mungeLocalUfrag')), 'accepted')
    assert.equal(await withBrowserPage(PAGE, async page => await page.call('mungeLocalUfrag'), { fieldTrials: [NO_SDP_MUNGING_TRIAL] }), 'InvalidModificationError')
  })

  it('refuses to bundle a Node built-in for the browser and names the importer', async () => {
    await assert.rejects(bundleForBrowser(fileURLToPath(new URL('./fixtures/node-builtin-page.ts', import.meta.url))),
      (err: Error) => err instanceof BrowserBundleError && /node:fs/.test(err.message) && /node-builtin-page\.ts/.test(err.message))
  })
})

describe('without Chromium', () => {
  const AVAILABILITY = fileURLToPath(new URL('./availability.ts', import.meta.url))
  const skipOf = (env: Record<string, string>): string => execFileSync(process.execPath, ['--input-type=module', '-e',
    `import { chromiumSkip } from ${JSON.stringify(AVAILABILITY)}; try { console.log(JSON.stringify(chromiumSkip())) } catch (err) { console.log(JSON.stringify('threw: ' + err.message)) }`],
  { env: { ...process.env, CI: '', ...env }, encoding: 'utf8' }).trim()

  it('a test skips saying why, and under CI=true it fails instead', () => {
    const missing = { CHROMIUM_PATH: '/nonexistent/chromium' }
    assert.match(skipOf(missing), /\/nonexistent\/chromium/)
    assert.doesNotMatch(skipOf(missing), /threw/)
    assert.match(skipOf({ ...missing, CI: 'true' }), /^"threw: CI must run the Chromium tests, but .*\/nonexistent\/chromium/)
  })
})

describe('the Chromium harness inside network namespaces', { skip: await chromiumInNamespaceSkip() }, () => {
  for (const shared of [false, true]) {
    it(`the page gathers ICE candidates and reaches a Node process in ${shared ? 'its own' : 'a peer'} namespace`, async () => {
      const lab = await createBrowserLab({ shared })
      try {
        const echo = lab.spawnNode(ECHO_SERVER, [lab.peerAddress])
        const port = (await echo.nextLine(line => line.startsWith('listening '), 60_000)).split(' ')[1]
        await withBrowserPage(PAGE, async page => {
          assert.equal(await page.call('webSocketEcho', `ws://${lab.peerAddress}:${port}`, 'across the veth'), 'across the veth')
          const candidates = await page.call<string[]>('gatherIceCandidates', 10_000)
          assert.ok(candidates.some(c => / typ host /.test(c)), `a host candidate: ${candidates.join(' | ')}`)
        }, { lab })
        await echo.stop()
      } finally {
        lab.destroySync()
      }
    })
  }
})
