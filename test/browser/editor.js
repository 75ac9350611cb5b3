// Driving the Node-RED editor in Debian's Chromium with playwright-core: the launch, a console watch that fails a
// test on any editor error it did not provoke on purpose, numbered step screenshots, and the gestures a person
// makes (drag from the palette, wire ports, double-click, Done/Cancel, Deploy, the inject button, the sidebar).
/* global RED, $ -- the Node-RED editor's globals, inside page.evaluate() callbacks */
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const { chromium } = require('playwright-core');

const root = path.resolve(__dirname, '..', '..');
const ARTIFACTS = path.join(root, 'test-artifacts', 'browser');
const DOCS_SCREENSHOTS = path.join(root, 'docs', 'screenshots');
const CHROMIUM = process.env.O365_CHROMIUM || '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Debian's Chromium, headless; never a browser downloaded by Playwright. */
async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set O365_CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}

/** A port on 127.0.0.1 that nothing listens on (a redirect URI that does not answer). */
function deadPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Console errors and uncaught exceptions of one page. Chromium logs every 4xx/5xx answer as "Failed to load
 * resource"; a step that provokes one on purpose says so with allow(), by URL and status, for one occurrence.
 */
class ConsoleWatch {
  constructor(page) {
    this.errors = [];
    this.allowances = [];
    this.lines = [];
    page.on('console', (message) => {
      const location = message.location() || {};
      this.lines.push(`${message.type()}: ${message.text()}`);
      if (message.type() === 'error') this._error({ text: message.text(), url: location.url || '' });
    });
    page.on('pageerror', (err) => {
      this.lines.push(`pageerror: ${err.message}`);
      this._error({ text: `uncaught ${err.stack || err.message}`, url: '' });
    });
  }

  allow(urlPart, status) {
    this.allowances.push({ urlPart, status });
  }

  _error(entry) {
    const i = this.allowances.findIndex(
      (a) => entry.url.includes(a.urlPart) && entry.text.includes(`status of ${a.status}`),
    );
    if (i >= 0) this.allowances.splice(i, 1);
    else this.errors.push(entry);
  }

  /** Throws when the page logged an error nobody allowed; forgets allowances that were not used. */
  assertClean(when) {
    const errors = this.errors.splice(0);
    this.allowances.length = 0;
    if (errors.length) {
      const list = errors.map((e) => `  ${e.text}${e.url ? ` (${e.url})` : ''}`).join('\n');
      throw new Error(`the editor logged ${errors.length} error(s) ${when}:\n${list}`);
    }
  }
}

/** Numbered screenshots of every step in test-artifacts/browser/; chosen ones also go to docs/screenshots/. */
class Screenshots {
  /** `folder`: a sub-folder of test-artifacts/browser/ for one test file's shots. */
  constructor(folder = '') {
    this.count = 0;
    this.files = new Map();
    this.dir = path.join(ARTIFACTS, folder);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.dir, { recursive: true });
  }

  async take(page, name) {
    this.count += 1;
    const file = path.join(this.dir, `${String(this.count).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    this.files.set(name, file);
    return file;
  }

  /** Best effort, for pages that may close themselves (the callback page) or failure shots. */
  async tryTake(page, name) {
    try {
      if (!page.isClosed()) return await this.take(page, name);
    } catch {
      // the page went away while being captured
    }
    return null;
  }

  /** Copies the named shots to docs/screenshots/<target>.png; returns the targets written. */
  publish(choice) {
    fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    const written = [];
    for (const [name, target] of Object.entries(choice)) {
      const file = this.files.get(name);
      if (!file) continue;
      const destination = path.join(DOCS_SCREENSHOTS, target);
      fs.copyFileSync(file, destination);
      written.push(path.relative(root, destination));
    }
    return written;
  }
}

/** The gestures on the editor page. Node ids are read from the editor (RED.nodes) only to find what was made. */
class Editor {
  constructor(page) {
    this.page = page;
  }

  async open(url) {
    await this.page.goto(url);
    await this.page.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor();
    await this.page.waitForFunction(() => window.RED && RED.workspaces && RED.workspaces.active());
  }

  node(id) {
    return this.page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
  }

  nodeIds(type) {
    return this.page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n) => n.id), type);
  }

  /** Drags a palette entry onto the workspace at (x, y) relative to its top left; returns the new node's id. */
  async dragFromPalette(type, x, y) {
    const page = this.page;
    const before = await this.nodeIds(type);
    const entry = page.locator(`#red-ui-palette-container .red-ui-palette-node[data-palette-type="${type}"]`);
    await entry.scrollIntoViewIfNeeded();
    const from = await entry.boundingBox();
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    // jQuery UI starts a drag only after the pointer moved a little.
    await page.mouse.move(from.x + from.width / 2 + 20, from.y + from.height / 2 + 5, { steps: 5 });
    await page.mouse.move(chart.x + x, chart.y + y, { steps: 15 });
    await page.mouse.up();
    const handle = await page.waitForFunction(
      ([t, known]) => {
        const added = RED.nodes.filterNodes({ type: t }).find((n) => !known.includes(n.id));
        return added ? added.id : null;
      },
      [type, before],
    );
    const id = await handle.jsonValue();
    await this.node(id).waitFor();
    return id;
  }

  /** Drags a wire from the output port of one node to the input port of another. */
  async wire(fromId, toId) {
    const page = this.page;
    const centre = async (locator) => {
      const box = await locator.boundingBox();
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    };
    const a = await centre(this.node(fromId).locator('.red-ui-flow-port-output .red-ui-flow-port'));
    const b = await centre(this.node(toId).locator('.red-ui-flow-port-input .red-ui-flow-port'));
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2 + 10, { steps: 8 });
    await page.mouse.move(b.x, b.y, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(
      ([s, t]) => RED.nodes.filterLinks({}).some((l) => l.source.id === s && l.target.id === t),
      [fromId, toId],
    );
  }

  /** Double-clicks a node and waits for its edit tray. */
  async edit(id) {
    await this.node(id).locator('rect.red-ui-flow-node').dblclick();
    await this.page.locator('#node-dialog-ok').waitFor();
  }

  async closeTray(buttonId) {
    const button = this.page.locator(`#${buttonId}`);
    await button.click();
    await button.waitFor({ state: 'detached' });
  }

  statusText(id) {
    return this.node(id).locator('.red-ui-flow-node-status-label');
  }

  async deploy() {
    const button = this.page.locator('#red-ui-header-button-deploy');
    await button.click();
    await this.page.locator('#red-ui-header-button-deploy.disabled').waitFor();
  }

  /** Import → Examples → <module> → <name> → Import, the way a person does it; resolves once `ids` exist. */
  async importExample(module, name, ids = []) {
    const page = this.page;
    await page.evaluate(() => RED.actions.invoke('core:show-examples-import-dialog'));
    const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    const label = (text) =>
      tree.locator('.red-ui-treeList-label', {
        has: page.locator('.red-ui-treeList-label-text', { hasText: new RegExp(`^${escapeRegExp(text)}$`) }),
      });
    const importEnabled = page.locator('#red-ui-clipboard-dialog-ok:not([disabled])');
    const settles = (promise) =>
      promise.then(
        () => true,
        () => false,
      );
    await label(module).waitFor();
    // The dialog remembers an opened folder, and redraws the tree while it loads: open the folder when the
    // example is not shown, click the example, and look again when Import did not become enabled.
    for (let attempt = 1; ; attempt++) {
      if (await label(name).isVisible()) {
        await label(name).click();
        if (await settles(importEnabled.waitFor({ timeout: 3000 }))) break;
      } else {
        await label(module).click();
        await settles(label(name).waitFor({ timeout: 3000 }));
      }
      if (attempt === 6) throw new Error(`Import → Examples: ${module} → ${name} could not be selected`);
    }
    await this._confirmImport(ids);
  }

  /** Import → Clipboard: pastes a flow's JSON and imports it; resolves once its nodes exist. */
  async importText(json) {
    const page = this.page;
    await page.evaluate(() => RED.actions.invoke('core:show-import-dialog'));
    const text = page.locator('#red-ui-clipboard-dialog-import-text');
    await text.fill(json);
    await text.press('End'); // the dialog checks the text on keyup
    await page.locator('#red-ui-clipboard-dialog-ok:not([disabled])').waitFor();
    await this._confirmImport(JSON.parse(json).map((n) => n.id));
  }

  async _confirmImport(ids) {
    const ok = this.page.locator('#red-ui-clipboard-dialog-ok');
    await ok.click();
    await ok.waitFor({ state: 'hidden' });
    // The editor may add the nodes a moment after the dialog closed (Node-RED 5 checks the modules first).
    await this.page.waitForFunction(
      (wanted) => wanted.every((id) => RED.nodes.node(id) || RED.nodes.workspace(id)),
      ids,
    );
  }

  /**
   * Deploys and fails with the editor's own words when it asks "Are you sure you want to deploy?" (invalid or
   * unknown nodes) instead of deploying.
   */
  async deployWithoutWarning() {
    const page = this.page;
    await page.locator('#red-ui-header-button-deploy').click();
    const done = page.locator('#red-ui-header-button-deploy.disabled');
    const warning = page.locator('.red-ui-notification', {
      has: page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy'),
    });
    await done.or(warning).first().waitFor();
    if (await warning.count()) {
      const text = await warning.first().innerText();
      throw new Error(`the deploy asked for confirmation instead of deploying:\n${text}`);
    }
  }

  /** Every message in the debug sidebar: its source node id, level (20 error, 30 warning), meta line and text. */
  debugMessages() {
    return this.page.evaluate(() =>
      $('.red-ui-debug-content-list .red-ui-debug-msg')
        .toArray()
        .map((element) => {
          const classes = Array.from(element.classList);
          const level = classes.find((c) => /^red-ui-debug-msg-level-\d+$/.test(c));
          return {
            source: $(element).data('source') || null,
            level: level ? Number(level.replace(/\D+/g, '')) : null,
            topic: $(element).find('.red-ui-debug-msg-topic').first().text(),
            text: element.innerText,
          };
        }),
    );
  }

  async clearDebug() {
    await this.page.locator('#red-ui-sidebar-debug-clear').click();
    await this.page.waitForFunction(() => $('.red-ui-debug-content-list .red-ui-debug-msg').length === 0);
  }

  /** Shows a flow tab (what clicking its tab does). */
  async showFlow(id) {
    await this.page.evaluate((tab) => RED.workspaces.show(tab), id);
    await this.page.waitForFunction((tab) => RED.workspaces.active() === tab, id);
  }

  /** The debug messages (a sidebar tab in Node-RED 4, a panel in 5): the action behind ctrl-g d shows them. */
  async showDebug() {
    await this.page.evaluate(() => RED.actions.invoke('core:show-debug-tab'));
    await this.page.locator('#red-ui-sidebar-debug-clear').waitFor();
  }

  /** A message in the debug sidebar, by the class the editor gives it (e.g. 'red-ui-debug-msg-level-20'). */
  debugMessage(className) {
    return this.page.locator(`.red-ui-debug-content-list .red-ui-debug-msg.${className}`);
  }

  async clickInject(id) {
    await this.node(id).locator('rect.red-ui-flow-node-button-button').click();
  }

  async showSidebar(tab) {
    await this.page.locator(`#red-ui-tab-${tab}-link-button`).click();
    await this.page.locator(`#red-ui-tab-${tab}.active`).waitFor();
  }

  /** After a failed step: closes pages other than the editor and every open tray (innermost first). */
  async recover(context) {
    for (const other of context.pages()) if (other !== this.page) await other.close().catch(() => {});
    for (let i = 0; i < 4; i++) {
      const cancel = this.page.locator('#node-config-dialog-cancel, #node-dialog-cancel').first();
      if (!(await cancel.count())) break;
      await cancel.click({ timeout: 5000 }).catch(() => {});
      await cancel.waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
    }
  }
}

module.exports = { launchChromium, deadPort, ConsoleWatch, Screenshots, Editor, VIEWPORT };
