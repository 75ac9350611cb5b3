// The editor proven in a real browser: Debian's Chromium drives the Node-RED 4 editor of a node-red process with the
// packed package installed, against the simulated tenant. A person's gestures throughout: drag the events node from
// the palette, add an account from its dialog, sign in three ways (the Microsoft popup, the pasted redirected URL, a
// device code typed into the login page), pick a calendar, wire inject → events → debug, deploy, click inject and
// read the events in the debug sidebar. Any error in the editor's console fails the step it happened in.
//
// Screenshots of every step land in test-artifacts/browser/. O365_UPDATE_SCREENSHOTS=1 also copies the README's
// ones to docs/screenshots/ (and runs Node-RED on port 1880, so the dialogs show the usual address).
/* global RED -- the Node-RED editor's global, inside page.evaluate() callbacks */
'use strict';
require('should');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { launchChromium, deadPort, ConsoleWatch, Screenshots, Editor, VIEWPORT } = require('./editor');

const WEEK = 7 * 24 * 3600 * 1000;
const UPDATE_DOCS = process.env.O365_UPDATE_SCREENSHOTS === '1';
// Shot name → file in docs/screenshots/.
const README_SHOTS = {
  'config-signed-in': 'config-signed-in.png',
  'events-calendar-picked': 'events-calendar-picker.png',
  'debug-sidebar-events': 'debug-sidebar-events.png',
  'device-code': 'device-code.png',
};

/** What Graph answers for a window of one of Megan's calendars: [{id, subject}] by start (the reference). */
async function graphView(sim, calendarId, startMs, endMs) {
  const { access_token: token } = sim.issueTokens({});
  let url =
    `${sim.url}/v1.0/me/calendars/${encodeURIComponent(calendarId)}/calendarView?` +
    new URLSearchParams({
      startDateTime: new Date(startMs).toISOString(),
      endDateTime: new Date(endMs).toISOString(),
      $orderby: 'start/dateTime',
      $select: 'subject',
      $top: '1000',
    });
  const events = [];
  while (url) {
    const res = await fetch(url, {
      headers: { Authorization: `Bearer ${token}`, Prefer: 'outlook.timezone="UTC"' },
    });
    res.status.should.equal(200);
    const body = await res.json();
    events.push(...body.value.map((e) => ({ id: e.id, subject: e.subject })));
    url = body['@odata.nextLink'];
  }
  return events;
}

describe('the editor in Chromium (packed package in Node-RED 4, simulated tenant)', function () {
  this.timeout(60000); // per step; the before hook sets its own

  let sim;
  let nr;
  let browser;
  let context;
  let page;
  let editor;
  let watch;
  let shots;
  let editorUrl;
  let origin;
  const made = { eventsId: null, configId: null, signedIn: false, calendar: null };

  before(async function () {
    this.timeout(300000); // packing and installing the tarball
    shots = new Screenshots();
    browser = await launchChromium(); // first: a missing Chromium fails before anything is packed
    sim = await startSimulator({ eventCount: 600 });
    nr = new NodeRed({
      major: 4,
      tarball: await packPackage(),
      // TZ: the window "now … now+7d" is then exactly 7 × 24 h, as the reference below computes it.
      env: { TZ: 'UTC' },
      settings: {
        telemetry: { enabled: false },
        // As `npm start`: no palette catalogue (it would be fetched from the internet).
        editorTheme: { tours: false, palette: { catalogues: [] } },
        ...(UPDATE_DOCS ? { uiPort: 1880 } : {}),
      },
    });
    await nr.start();
    // localhost, not 127.0.0.1: the redirect URI the dialog fills in names localhost, and the callback page
    // must be on the same origin the editor was opened from.
    origin = `http://localhost:${nr.port}`;
    editorUrl = `${origin}/`;
    context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(15000);
    page = await context.newPage();
    watch = new ConsoleWatch(page);
    editor = new Editor(page);
    await editor.open(editorUrl);
  });

  afterEach(async function () {
    if (this.currentTest.state !== 'failed' || !page) return;
    await shots.tryTake(page, `FAILED-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`);
    if (watch.lines.length) {
      console.log(`      editor console (last lines):\n        ${watch.lines.slice(-15).join('\n        ')}`);
    }
    if (nr) console.log(`      Node-RED log (last lines):\n        ${nr.log.slice(-15).join('\n        ')}`);
    await editor.recover(context);
  });

  after(async function () {
    this.timeout(60000);
    const problems = [];
    try {
      if (watch) watch.assertClean('after the last step');
    } catch (err) {
      problems.push(err.message);
    }
    for (const [what, stop] of [
      ['browser', () => browser && browser.close()],
      ['Node-RED', () => nr && nr.stop()],
      ['simulator', () => sim && sim.close()],
    ]) {
      try {
        await stop();
      } catch (err) {
        problems.push(`${what}: ${err.message}`);
      }
    }
    const allPassed = this.test.parent.tests.every((t) => t.state === 'passed');
    if (UPDATE_DOCS && allPassed) console.log(`      wrote ${shots.publish(README_SHOTS).join(', ')}`);
    if (problems.length) throw new Error(problems.join('\n'));
  });

  /** Fills the connection fields of the open config dialog for the simulated tenant. */
  async function fillAccount(name, app, { secret = app.secret } = {}) {
    await page.fill('#node-config-input-name', name);
    await page.fill('#node-config-input-tenant', sim.tenantId);
    await page.selectOption('#node-config-input-cloud', 'custom');
    await page.fill('#node-config-input-authorityHost', sim.url);
    await page.fill('#node-config-input-graphEndpoint', sim.url);
    await page.fill('#node-config-input-clientId', app.clientId);
    await page.fill('#node-config-input-clientSecret', secret || '');
  }

  /** Opens the events node's dialog and, from its account field, the dialog of a new config node. */
  async function addAccountFromEventsDialog() {
    await editor.edit(made.eventsId);
    await page.locator('#node-input-btn-config-add').click();
    await page.locator('#node-config-input-tenant').waitFor();
  }

  function signInState() {
    return page.locator('#o365-config-state');
  }

  async function expectSignedInAsMegan() {
    await page.locator('#o365-config-state.o365-state-signed-in').waitFor();
    (await signInState().innerText()).should.match(/Signed in as Megan Bowen/);
    (await page.locator('#o365-config-error').isVisible()).should.be.false();
  }

  it('drops the events node from the palette, adds an account from its dialog and signs in with the Microsoft popup', async () => {
    made.eventsId = await editor.dragFromPalette('o365-events', 340, 200);
    await shots.take(page, 'events-node-dropped');
    await editor.edit(made.eventsId);
    (await page.locator('#node-input-config').inputValue()).should.equal('_ADD_');
    await page.locator('#node-input-btn-config-add').click();
    await page.locator('#node-config-input-tenant').waitFor();

    // The dialog fills in this Node-RED's callback as the browser sees it.
    (await page.locator('#node-config-input-redirectUri').inputValue()).should.equal(
      `${origin}/o365/auth/callback`,
    );
    (await page.locator('#o365-config-callback-row').isVisible()).should.be.false();
    await page.locator('#o365-config-state.o365-state-signed-out').waitFor();
    await fillAccount('Contoso (simulated)', sim.apps.confidential);
    await page.locator('#o365-config-popup').scrollIntoViewIfNeeded();
    await shots.take(page, 'config-filled');

    const authorize = context.waitForEvent('response', {
      predicate: (r) => r.url().startsWith(`${sim.url}/${sim.tenantId}/oauth2/v2.0/authorize`),
    });
    const callback = context.waitForEvent('response', {
      predicate: (r) => r.url().startsWith(`${origin}/o365/auth/callback?`),
    });
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      page.locator('#o365-config-popup').click(),
    ]);
    // Microsoft's pages isolate themselves from the opener; the sign-in must not need window.opener.
    (await authorize).headers()['cross-origin-opener-policy'].should.equal('same-origin');
    const landed = await callback;
    landed.status().should.equal(200);
    (await landed.text()).should.match(/Signed in as Megan Bowen/);
    await shots.tryTake(popup, 'popup-callback-page');
    await expectSignedInAsMegan();
    await signInState().scrollIntoViewIfNeeded();
    await page
      .locator('#node-config-input-redirectUri')
      .evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await shots.take(page, 'config-signed-in');
    // The callback page closes itself.
    if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 10000 });

    await editor.closeTray('node-config-dialog-ok');
    made.configId = await page.locator('#node-input-config').inputValue();
    made.configId.should.not.equal('_ADD_');
    (await page.locator('#node-input-config option:checked').innerText()).should.equal('Contoso (simulated)');
    made.signedIn = true;
    watch.assertClean('while signing in with the popup');
  });

  it('lists the calendars in the events dialog and keeps the one picked', async function () {
    if (!made.signedIn) this.skip(); // needs the previous step's open dialog and sign-in
    const expected = sim.calendars('megan');
    const team = expected.find((c) => c.name === 'Team');
    await page.locator('#o365-events-calendar-load').click();
    await page
      .locator('#o365-events-calendar-info', { hasText: `${expected.length} calendars found` })
      .waitFor();
    const options = await page
      .locator('#o365-events-calendar-pick option')
      .evaluateAll((all) => all.map((o) => ({ value: o.value, text: o.textContent })));
    for (const calendar of expected) {
      options.should.containEql({
        value: calendar.id,
        text: `${calendar.name}${calendar.isDefaultCalendar ? ' (default)' : ''} · ${calendar.owner.name}`,
      });
    }
    await page.selectOption('#o365-events-calendar-pick', team.id);
    await page.locator('#node-input-config').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await shots.take(page, 'events-calendar-picked');
    await editor.closeTray('node-dialog-ok');

    // The node keeps the id and shows the name.
    await editor
      .node(made.eventsId)
      .locator('.red-ui-flow-node-label', { hasText: 'Team · next 7d' })
      .waitFor();
    const saved = await page.evaluate((id) => {
      const n = RED.nodes.node(id);
      return { calendarId: n.calendarId, calendarName: n.calendarName, config: n.config, valid: n.valid };
    }, made.eventsId);
    saved.should.eql({ calendarId: team.id, calendarName: 'Team', config: made.configId, valid: true });
    made.calendar = team;
    watch.assertClean('while picking a calendar');
  });

  it('explains a bad window value under the field, leaves the grammar hint in view, and takes the guess', async function () {
    if (!made.eventsId) this.skip();
    await editor.edit(made.eventsId);
    const start = page.locator('#node-input-start');
    await start.fill('tommorow');
    await start.dispatchEvent('change'); // as leaving the field does: Node-RED validates on change
    const problem = page.locator('#o365-events-window-error');
    await problem.filter({ hasText: 'Did you mean tomorrow?' }).waitFor();
    (await problem.innerText()).should.match(/"tommorow" is neither window grammar/);
    (await start.evaluate((e) => e.classList.contains('input-error'))).should.be.true();
    // Hovering the red field opens no tooltip over the hint: the hint box is what the browser shows there.
    const tip = page.locator('.o365-events-form .form-tips.o365-events-window');
    await tip.scrollIntoViewIfNeeded();
    await start.hover();
    await page.waitForTimeout(1200); // Node-RED opens a field's tooltip 750 ms after the pointer arrives
    (await page.locator('.red-ui-popover:visible').count()).should.equal(0);
    (await tip.isVisible()).should.be.true();
    const onTop = await tip.evaluate((e) => {
      const box = e.getBoundingClientRect();
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      return e.contains(hit);
    });
    onTop.should.be.true();
    await shots.take(page, 'events-window-did-you-mean');

    await problem.getByRole('button', { name: 'Use tomorrow' }).click();
    (await start.inputValue()).should.equal('tomorrow');
    (await problem.isVisible()).should.be.false();
    (await start.evaluate((e) => e.classList.contains('input-error'))).should.be.false();
    await editor.closeTray('node-dialog-cancel');
    watch.assertClean('while explaining a bad window value');
  });

  it('wires inject → events → debug, deploys, and shows the calendar window’s events in the debug sidebar', async function () {
    if (!made.calendar) this.skip();
    const injectId = await editor.dragFromPalette('inject', 120, 200);
    const debugId = await editor.dragFromPalette('debug', 600, 200);
    await editor.wire(injectId, made.eventsId);
    await editor.wire(made.eventsId, debugId);
    await shots.take(page, 'flow-wired');

    const logFrom = nr.log.length;
    await editor.deploy();
    await nr.waitForLog(/Started flows/, 30000, logFrom);
    // The deployed config node uses the sign-in made in the dialog.
    await editor
      .statusText(made.eventsId)
      .filter({ hasText: /^signed in$/ })
      .waitFor();

    await editor.showSidebar('debug');
    const from = Date.now();
    await editor.clickInject(injectId);
    const message = page.locator('#red-ui-sidebar .red-ui-debug-msg');
    await message.first().waitFor();
    const until = Date.now();
    (await message.count()).should.equal(1);
    await editor
      .statusText(made.eventsId)
      .filter({ hasText: /^\d+ events · \d\d:\d\d$/ })
      .waitFor();

    // The reference: Graph's answer for "now … now+7d"; "now" was some instant between the click and the message.
    const early = await graphView(sim, made.calendar.id, from, from + WEEK);
    const late = await graphView(sim, made.calendar.id, until, until + WEEK);
    early
      .map((e) => e.id)
      .should.eql(
        sim.expectedView({ user: 'megan', calendarId: made.calendar.id, start: from, end: from + WEEK }),
      );
    early.length.should.be.within(1, 10, 'the Team calendar should hold a few events a week');

    const topic = (await message.locator('.red-ui-debug-msg-topic').innerText()).trim();
    topic.should.match(/^msg\.payload : array\[\d+\]$/);
    const count = Number(/\[(\d+)\]$/.exec(topic)[1]);
    const subjects = [];
    await message.locator('.red-ui-debug-msg-top-level > .red-ui-debug-msg-row').click();
    const entries = message.locator('.red-ui-debug-msg-array-rows > .red-ui-debug-msg-object-entry');
    await entries.first().waitFor();
    (await entries.count()).should.equal(count);
    for (let i = 0; i < count; i++) {
      const entry = entries.nth(i);
      const row = entry.locator('.red-ui-debug-msg-row').first();
      await row.click();
      const subject = entry.locator('.red-ui-debug-msg-object-entry', {
        has: page.locator('.red-ui-debug-msg-object-key', { hasText: /^subject$/ }),
      });
      subjects.push(JSON.parse(await subject.locator('.red-ui-debug-msg-object-value').first().innerText()));
      if (i > 0) await row.click(); // only the first event stays open, for the screenshot
    }
    const matches = (view) => view.length === count && view.every((e, i) => e.subject === subjects[i]);
    if (!matches(early) && !matches(late)) {
      throw new Error(
        `the debug sidebar shows ${count} events ${JSON.stringify(subjects)}, Graph has ` +
          `${JSON.stringify(early.map((e) => e.subject))} for the window`,
      );
    }
    (await page.locator('#red-ui-sidebar .red-ui-debug-msg-level-20').count()).should.equal(0);
    await message.first().evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await shots.take(page, 'debug-sidebar-events');

    // The help in the sidebar has the sections the guide promises.
    await editor.node(made.eventsId).locator('rect.red-ui-flow-node').click();
    await editor.showSidebar('help');
    const help = page.locator('#red-ui-sidebar .red-ui-help');
    for (const heading of ['Inputs', 'Outputs', 'Details']) {
      await help
        .locator('h3', { hasText: new RegExp(`^${heading}$`) })
        .first()
        .waitFor();
    }
    await shots.take(page, 'events-help');

    nr.log.filter((line) => /\[error\]/.test(line)).should.eql([]);
    watch.assertClean('while deploying and fetching');
  });

  it('shows the deployed account signed in when its dialog is opened again from the pencil', async function () {
    if (!made.calendar) this.skip();
    await editor.edit(made.eventsId);
    await page.locator('#node-input-btn-config-edit').click();
    await page.locator('#node-config-dialog-ok', { hasText: 'Update' }).waitFor();
    await expectSignedInAsMegan();
    // The saved secret stays on the server; the field only holds Node-RED's placeholder.
    (await page.locator('#node-config-input-clientSecret').inputValue()).should.not.equal(
      sim.apps.confidential.secret,
    );
    await editor.closeTray('node-config-dialog-cancel');
    await editor.closeTray('node-dialog-cancel');
    watch.assertClean('while reopening the account');
  });

  it('signs in by pasting the redirected URL when the redirect URI does not answer', async function () {
    if (!made.eventsId) this.skip();
    const port = await deadPort();
    const unreachable = `https://localhost:${port}/o365/auth/callback`;
    sim.apps.confidential.redirectUris.push(unreachable);

    await addAccountFromEventsDialog();
    await fillAccount('Contoso (pasted URL)', sim.apps.confidential);
    await page.fill('#node-config-input-redirectUri', unreachable);
    // The dialog points out this Node-RED's own callback when another redirect URI is entered.
    await page.locator('#o365-config-callback-row', { hasText: `${origin}/o365/auth/callback` }).waitFor();

    const redirected = context.waitForEvent('request', {
      predicate: (r) => r.url().startsWith(`${unreachable}?`),
    });
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      page.locator('#o365-config-popup').click(),
    ]);
    const address = (await redirected).url();
    new URL(address).searchParams.get('code').should.be.a.String().and.not.be.empty();
    await page.locator('#o365-config-state.o365-state-pending', { hasText: 'Microsoft window' }).waitFor();
    await popup.waitForLoadState().catch(() => {});
    await shots.tryTake(popup, 'paste-popup-dead-end');
    await popup.close();

    // A URL whose state this Node-RED never issued is refused with a clear message (HTTP 400, on purpose).
    watch.allow('/o365/auth/exchange', 400);
    const forged = address.replace(/([?&]state=)[^&]+/, '$1forged-state');
    await page.fill('#o365-config-paste', forged);
    await page.locator('#o365-config-exchange').click();
    await page.locator('#o365-config-error', { hasText: 'This sign-in link is unknown' }).waitFor();
    await signInState().scrollIntoViewIfNeeded();
    await shots.take(page, 'paste-error');

    await page.fill('#o365-config-paste', address);
    await page.locator('#o365-config-paste').press('Enter');
    await expectSignedInAsMegan();
    // The single-use code leaves the field at once.
    (await page.locator('#o365-config-paste').inputValue()).should.equal('');
    await shots.take(page, 'paste-signed-in');

    await editor.closeTray('node-config-dialog-cancel');
    await editor.closeTray('node-dialog-cancel');
    watch.assertClean('while signing in with a pasted URL');
  });

  it('signs in with a device code entered on the login page in a second tab', async function () {
    if (!made.eventsId) this.skip();
    sim.knobs.deviceInterval = 1; // the runtime polls the token endpoint every second instead of every five

    await addAccountFromEventsDialog();
    // A public client: device code, no secret.
    await fillAccount('Contoso (device code)', sim.apps.public, { secret: '' });
    await page.locator('#o365-config-device').click();
    await page.locator('#o365-config-device-panel').waitFor();
    const userCode = (await page.locator('#o365-config-user-code').innerText()).trim();
    userCode.should.match(/^[A-Z0-9]{6,12}$/);
    sim
      .pendingDeviceCodes()
      .map((c) => c.userCode)
      .should.containEql(userCode);
    const link = page.locator('#o365-config-verification');
    (await link.getAttribute('href')).should.equal(`${sim.url}/devicelogin`);
    await page.locator('#o365-config-state.o365-state-pending').waitFor();
    await signInState().evaluate((e) => e.scrollIntoView({ block: 'center' }));
    await shots.take(page, 'device-code');

    const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await tab.locator('#otc').fill(userCode);
    await tab.locator('#next').click();
    await tab.locator('#result', { hasText: 'You have signed in' }).waitFor();
    await shots.take(tab, 'device-login-page');
    await tab.close();

    await expectSignedInAsMegan();
    (await page.locator('#o365-config-device-panel').isVisible()).should.be.false();
    await shots.take(page, 'device-signed-in');

    await editor.closeTray('node-config-dialog-cancel');
    await editor.closeTray('node-dialog-cancel');
    watch.assertClean('while signing in with a device code');
  });
});
