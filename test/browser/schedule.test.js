// The free/busy dialog in Chromium: the packed package in a Node-RED 4 process, a deployed account signed in with
// Place.Read.All against the simulated tenant. A person lists the rooms and adds two, lists the room lists and
// picks one, sees the form refuse a bad address, saves, deploys and reads the status. Any error in the editor's
// console fails the step it happened in.
/* global RED -- the Node-RED editor's global, inside page.evaluate() callbacks */
'use strict';
require('should');
const { packPackage, NodeRed } = require('../harness/nodered');
const { startSimulator } = require('../sim/simulator');
const { simConfigProps, simCredentials, SIM_SCOPES } = require('../lib/sim-config');
const { launchChromium, ConsoleWatch, Screenshots, Editor, VIEWPORT } = require('./editor');

describe('the free/busy dialog in Chromium (packed package in Node-RED 4, simulated tenant)', function () {
  this.timeout(60000);

  let sim;
  let nr;
  let browser;
  let context;
  let page;
  let editor;
  let watch;
  let shots;

  before(async function () {
    this.timeout(300000);
    shots = new Screenshots();
    browser = await launchChromium();
    sim = await startSimulator({ eventCount: 100 });
    nr = new NodeRed({
      major: 4,
      tarball: await packPackage(),
      settings: { telemetry: { enabled: false }, editorTheme: { tours: false, palette: { catalogues: [] } } },
    });
    await nr.start();
    const scope = `${SIM_SCOPES} Place.Read.All`;
    await nr.deploy([
      { id: 'tab', type: 'tab', label: 'Rooms' },
      {
        id: 'cfg',
        type: 'o365-config',
        name: 'Contoso with rooms',
        ...simConfigProps(sim, {
          scopes: scope,
          redirectUri: `http://localhost:${nr.port}/o365/auth/callback`,
        }),
        credentials: simCredentials(sim, { scope }).credentials,
      },
      {
        id: 'fb',
        type: 'o365-schedule',
        z: 'tab',
        config: 'cfg',
        mailboxes: sim.users.alex.upn,
        x: 300,
        y: 120,
        wires: [[]],
      },
      {
        id: 'go',
        type: 'inject',
        z: 'tab',
        name: 'go',
        props: [{ p: 'payload' }],
        repeat: '',
        crontab: '',
        once: false,
        onceDelay: 0.1,
        topic: '',
        payload: '',
        payloadType: 'date',
        x: 120,
        y: 120,
        wires: [['fb']],
      },
    ]);
    context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(15000);
    page = await context.newPage();
    watch = new ConsoleWatch(page);
    editor = new Editor(page);
    await editor.open(`http://localhost:${nr.port}/`);
  });

  afterEach(async function () {
    if (this.currentTest.state !== 'failed' || !page) return;
    await shots.tryTake(page, `FAILED-schedule-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 50)}`);
    if (watch.lines.length)
      console.log(`      editor console:\n        ${watch.lines.slice(-15).join('\n        ')}`);
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
    for (const stop of [() => browser && browser.close(), () => nr && nr.stop(), () => sim && sim.close()]) {
      try {
        await stop();
      } catch (err) {
        problems.push(err.message);
      }
    }
    if (problems.length) throw new Error(problems.join('\n'));
  });

  it('lists the rooms and adds two to the mailboxes, after the typed one', async () => {
    const rooms = sim.schedule.rooms();
    await editor.edit('fb');
    await page.locator('#o365-schedule-room-load').click();
    await page.locator('#o365-schedule-room-info', { hasText: `${rooms.length} rooms found` }).waitFor();
    await page.selectOption('#o365-schedule-room-pick', rooms[3].emailAddress);
    await page.locator('#o365-schedule-room-add').click();
    await page.selectOption('#o365-schedule-room-pick', rooms[0].emailAddress);
    await page.locator('#o365-schedule-room-add').click();
    // Adding one twice keeps one.
    await page.locator('#o365-schedule-room-add').click();
    (await page.locator('#node-input-mailboxes').inputValue())
      .split('\n')
      .should.eql([sim.users.alex.upn, rooms[3].emailAddress, rooms[0].emailAddress]);
    await shots.take(page, 'schedule-rooms-added');
    watch.assertClean('while listing rooms');
  });

  it('lists the room lists and puts the picked one’s address in the field', async () => {
    await page.locator('#o365-schedule-roomlist-load').click();
    await page.locator('#o365-schedule-roomlist-info', { hasText: '6 room lists found' }).waitFor();
    const building2 = sim.schedule.roomLists[1].emailAddress;
    await page.selectOption('#o365-schedule-roomlist-pick', building2);
    (await page.locator('#node-input-roomList').inputValue()).should.equal(building2);
    watch.assertClean('while listing room lists');
  });

  it('marks a bad address invalid, saves a good list, deploys and shows the read in the status', async () => {
    const mailboxes = page.locator('#node-input-mailboxes');
    const good = await mailboxes.inputValue();
    await mailboxes.fill(`${good}\nnot-an-address`);
    await mailboxes.dispatchEvent('change');
    await page.locator('#node-input-mailboxes.input-error').waitFor();
    await mailboxes.fill(good);
    await mailboxes.dispatchEvent('change');
    await page.locator('#node-input-mailboxes.input-error').waitFor({ state: 'detached' });
    await editor.closeTray('node-dialog-ok');
    const saved = await page.evaluate(() => {
      const n = RED.nodes.node('fb');
      return { mailboxes: n.mailboxes, roomList: n.roomList, valid: n.valid };
    });
    saved.valid.should.be.true();
    saved.roomList.should.equal(sim.schedule.roomLists[1].emailAddress);
    await editor.deploy();
    await editor.clickInject('go');
    const expected =
      3 +
      sim.schedule.rooms({ roomList: saved.roomList }).filter((r) => !good.includes(r.emailAddress)).length;
    await editor
      .statusText('fb')
      .filter({ hasText: new RegExp(`^${expected} mailboxes · \\d+ free · \\d\\d:\\d\\d$`) })
      .waitFor();
    await shots.take(page, 'schedule-status');
    watch.assertClean('after the deploy');
  });
});
