// studio.test.mjs — the Studio in a real browser (Debian's Chromium through playwright-core)
// against a running stack with the fake model: every task of issue 16 as a user does it,
// axe-core on every screen, no console errors, screenshots into docs/studio/.
// Run by tests/e2e/test_studio.py (STUDIO_URL, STUDIO_EMAIL, STUDIO_PASSWORD, FAKE_URL).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR || path.join(HERE, '..', '..', 'docs', 'studio');
const BASE = process.env.STUDIO_URL;
const EMAIL = process.env.STUDIO_EMAIL;
const PASSWORD = process.env.STUDIO_PASSWORD;
const FAKE = process.env.FAKE_URL;
const T = 30000;
mkdirSync(SHOTS, { recursive: true });

const consoleErrors = [];
let allow422 = false; // while a scenario provokes a 422 on purpose (the browser logs the load)
let passed = 0;

async function scenario(name, fn) {
  const t0 = Date.now();
  try { await fn(); passed++; console.log(`ok   ${name} (${Date.now() - t0} ms)`); }
  catch (e) {
    console.log(`FAIL ${name}\n${e.stack || e}`);
    await page.screenshot({ path: path.join(SHOTS, 'failure.png'), fullPage: true }).catch(() => {});
    throw e;
  }
}

async function axe(page, screen) {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`), [], `axe on ${screen}`);
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
const fake = (p, body) => fetch(FAKE + p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}) });

async function tabTo(page, predicate, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate)) return;
  }
  throw new Error('could not reach the control with Tab: ' + predicate);
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
// bypassCSP: axe-core is injected as an inline script, which the Studio's CSP rightly refuses
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
const page = await ctx.newPage();
page.setDefaultTimeout(T);
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  if (allow422 && /status of 422/.test(m.text())) return;
  consoleErrors.push(`${m.text()} (${(m.location() || {}).url || ''})`);
});
page.on('pageerror', (e) => consoleErrors.push('page error: ' + e.message));
let wfUrl = null;

try {
  await scenario('sign in (a wrong password is refused on the email field)', async () => {
    await page.goto(BASE + '/studio/');
    await page.getByRole('heading', { name: 'AI Automation Studio' }).waitFor();
    await axe(page, 'sign-in');
    await shot(page, 'signin');
    allow422 = true;
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('These credentials do not match our records.').waitFor();
    allow422 = false;
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
  });

  await scenario('prompt library: create, new version, diff, variables check', async () => {
    await page.getByRole('link', { name: 'Prompts' }).click();
    await page.getByRole('button', { name: 'New prompt' }).click();
    await page.getByLabel('Prompt name').fill('Lead summary');
    await page.getByLabel('Instructions for the AI').fill('You write short CRM notes.\nSummarise the lead {{lead_name}} from {{company}}.\nBe friendly.');
    await page.getByRole('button', { name: 'Create prompt' }).click();
    await page.getByRole('heading', { name: 'Version 1' }).waitFor();
    await page.getByText('All variables are declared.').waitFor();
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Save version 1' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByRole('button', { name: 'New version' }).click();
    await page.getByRole('heading', { name: 'Version 2' }).waitFor();
    const text = page.getByLabel('Instructions for the AI');
    assert.match(await text.inputValue(), /Summarise the lead/); // copied from the latest
    await text.fill('You write short CRM notes.\nSummarise the lead {{lead_name}} from {{company}} in one sentence.\nBe friendly.\nMention the score {{score}}.');
    await page.getByText('Not in the declared variables: score').waitFor();
    await page.getByRole('button', { name: 'Save version 2' }).click();
    await page.getByText('Saved.').waitFor();
    const diff = page.getByRole('table', { name: 'Version 1 compared with version 2' });
    await page.getByText('2 lines differ.').waitFor(); // once the saved version is reloaded
    assert.equal(await diff.locator('.diff-change').count(), 1);
    assert.equal(await diff.locator('.diff-add').count(), 1);
    await axe(page, 'prompts');
    await shot(page, 'prompts');
  });

  await scenario('workflows: create, rename, activate, delete with confirmation', async () => {
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('button', { name: 'New workflow' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Scratch');
    await page.getByLabel('Starts when this event happens').fill('scratch.event');
    await page.getByRole('button', { name: 'Create and open' }).click();
    await page.getByRole('heading', { name: 'Scratch', level: 1 }).waitFor();
    await page.getByRole('link', { name: '← All workflows' }).click();
    await page.getByRole('button', { name: 'Rename Scratch' }).click();
    await page.getByLabel('New name for Scratch').fill('Scratch renamed');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('link', { name: 'Scratch renamed' }).waitFor();
    await page.getByRole('button', { name: 'Activate Scratch renamed' }).click();
    await page.getByRole('button', { name: 'Deactivate Scratch renamed' }).waitFor();
    await page.getByLabel('State').selectOption('true');
    await page.getByRole('link', { name: 'Scratch renamed' }).waitFor();
    await page.getByLabel('State').selectOption('false');
    await page.getByText('No workflow matches these filters.').waitFor();
    await page.getByLabel('State').selectOption('');
    await page.getByRole('button', { name: 'Delete Scratch renamed' }).click();
    const dlg = page.getByRole('dialog');
    await dlg.getByText('This cannot be undone.').waitFor();
    await axe(page, 'delete confirmation');
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Scratch renamed' }).waitFor();
    await page.getByRole('button', { name: 'Delete Scratch renamed' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('“Scratch renamed” was deleted.').waitFor();
    await page.getByRole('link', { name: 'Scratch renamed' }).waitFor({ state: 'detached' });
  });

  await scenario('editor: two steps (AI, then CRM update with a condition), 422 on the right field', async () => {
    await page.getByRole('button', { name: 'New workflow' }).click();
    await page.getByLabel('Name', { exact: true }).fill('New lead follow-up');
    await page.getByLabel('Starts when this event happens').fill('lead.created');
    await page.getByLabel('Description (optional)').fill('Writes a summary of every new lead into the CRM.');
    await page.getByRole('button', { name: 'Create and open' }).click();
    await page.getByRole('heading', { name: 'New lead follow-up', level: 1 }).waitFor();
    wfUrl = page.url();
    await page.getByRole('button', { name: '+ Add a step' }).click();
    const s1 = page.locator('li.step').nth(0);
    await s1.getByLabel('Step name').fill('Summarise the lead');
    await s1.getByLabel('Prompt', { exact: true }).selectOption({ label: 'Lead summary' });
    assert.match(await s1.getByLabel('Prompt version').inputValue(), /\d+/);
    assert.equal(await s1.getByLabel('Prompt version').locator('option:checked').textContent(), 'Version 1 (active)');
    await s1.getByLabel('Message sent to the AI').fill('New lead: {{lead_name}} at {{company}} (score {{score}})');
    await s1.getByLabel('Save the result as').fill('summary');
    await page.getByRole('button', { name: '+ Add a step' }).click();
    const s2 = page.locator('li.step').nth(1);
    await s2.getByLabel('Step name').fill('');
    await s2.getByLabel('What this step does').selectOption('UPDATE_CRM_FIELD');
    await s2.getByLabel('CRM field to update').fill('ai_summary');
    await s2.getByLabel('New value').fill('{{summary.text}}');
    await s2.getByRole('button', { name: 'Add rule' }).click();
    await s2.getByLabel('Rule 1: value').fill('input.score');
    await s2.getByLabel('Test').selectOption('>=');
    await s2.getByLabel('Compared with').fill('50');
    await page.getByText('You have unsaved changes.').waitFor();
    // leaving asks first; staying keeps the changes
    page.once('dialog', (d) => d.dismiss());
    await page.getByRole('link', { name: 'Runs', exact: true }).first().click();
    await page.getByRole('heading', { name: 'New lead follow-up', level: 1 }).waitFor();
    assert.equal(await s2.getByLabel('CRM field to update').inputValue(), 'ai_summary');
    // the empty name is refused by the API and shown on that field
    allow422 = true;
    await page.getByRole('button', { name: 'Save changes' }).click();
    await s2.locator('.has-error').getByText('The name field is required.').waitFor();
    allow422 = false;
    assert.equal(await s2.getByLabel('Step name').getAttribute('aria-invalid'), 'true');
    await shot(page, 'editor-error');
    await s2.getByLabel('Step name').fill('Store the summary in the CRM');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('All changes saved.').waitFor();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('button', { name: 'Deactivate' }).waitFor();
    // what the API now holds
    const wid = wfUrl.split('/').pop();
    const tok = JSON.parse(await page.evaluate(() => localStorage.getItem('aiengine.studio.session'))).token;
    const steps = await (await fetch(`${BASE}/api/workflows/${wid}/steps`, { headers: { Authorization: 'Bearer ' + tok } })).json();
    assert.deepEqual(steps.data.map((s) => [s.step_order, s.step_type, s.name]), [[1, 'AI_PROMPT', 'Summarise the lead'], [2, 'UPDATE_CRM_FIELD', 'Store the summary in the CRM']]);
    assert.deepEqual(steps.data[1].condition_rules, { 'input.score': { '>=': 50 } });
    assert.deepEqual(steps.data[1].step_config, { field: 'ai_summary', value: '{{summary.text}}' });
    assert.deepEqual(steps.data[0].step_config, { input: 'New lead: {{lead_name}} at {{company}} (score {{score}})', save_as: 'summary' });
    await page.locator('li.step').nth(1).getByRole('button', { name: /^Edit/ }).click();
    await axe(page, 'editor');
    await shot(page, 'editor');
  });

  await scenario('keyboard only: reorder with Alt+arrows, open a step, save', async () => {
    await page.goto(wfUrl);
    await page.getByRole('heading', { name: 'New lead follow-up', level: 1 }).waitFor();
    await page.locator('body').focus();
    await tabTo(page, () => (document.activeElement.getAttribute('aria-label') || '').startsWith('Reorder step 2'));
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused control shows a focus ring');
    await page.keyboard.press('Alt+ArrowUp');
    await page.getByText('Store the summary in the CRM moved to position 1 of 2.').waitFor();
    assert.match(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), /^Reorder step 1, Store/);
    await page.keyboard.press('Alt+ArrowDown');
    await page.getByText('Store the summary in the CRM moved to position 2 of 2.').waitFor();
    assert.equal(await page.getByText('You have unsaved changes.').count(), 0, 'back to the saved order');
    await tabTo(page, () => document.activeElement.textContent.startsWith('Edit') && document.activeElement.textContent.includes('step 1'));
    await page.keyboard.press('Enter');
    await page.locator('li.step').nth(0).getByLabel('Step name').waitFor();
    await tabTo(page, () => document.activeElement.getAttribute('aria-label') === 'Step name' || document.activeElement.labels?.[0]?.textContent === 'Step name');
    await page.keyboard.press('End'); // Tab selects the field's text
    await page.keyboard.type(' now');
    await tabTo(page, () => document.activeElement.textContent === 'Save changes', 200);
    await page.keyboard.press('Enter');
    await page.getByText('All changes saved.').waitFor();
    await page.getByText('Summarise the lead now', { exact: true }).waitFor();
  });

  await scenario('drag and drop reorders steps', async () => {
    const handles = page.locator('button.handle');
    await handles.nth(1).dragTo(page.locator('li.step').nth(0));
    await page.getByText('You have unsaved changes.').waitFor();
    assert.match(await page.locator('li.step').nth(0).textContent(), /Store the summary/);
    await handles.nth(1).dragTo(page.locator('li.step').nth(0));
    assert.match(await page.locator('li.step').nth(0).textContent(), /Summarise the lead/);
    await page.getByText('You have unsaved changes.').waitFor({ state: 'detached' });
  });

  await scenario('test run: a form per template variable, both steps succeed with tokens and cost', async () => {
    await page.getByRole('button', { name: 'Test run' }).click();
    await page.getByLabel('lead_name', { exact: true }).fill('Ana');
    await page.getByLabel('company', { exact: true }).fill('Acme');
    await page.getByLabel('score', { exact: true }).fill('71');
    await page.getByLabel('Record id (optional)').fill('lead-42');
    await axe(page, 'test run form');
    await shot(page, 'testrun');
    await page.getByRole('button', { name: 'Start test run' }).click();
    await page.getByRole('heading', { name: /Run #\d+ Succeeded/ }).waitFor();
    const items = page.locator('ol.timeline > li');
    await items.nth(1).waitFor();
    assert.equal(await items.count(), 2);
    for (let i = 0; i < 2; i++) assert.match(await items.nth(i).textContent(), /Success/);
    assert.match(await items.nth(0).textContent(), /echo: New lead: Ana at Acme \(score 71\)/);
    assert.match(await items.nth(0).textContent(), /\d+ tokens · \$0\.0000\d+/);
    const tokens = await page.locator('.stats div', { hasText: 'Tokens' }).locator('dd').textContent();
    assert.ok(Number(tokens.replace(/,/g, '')) > 0, tokens);
    assert.match(await page.locator('.stats div', { hasText: 'Cost' }).locator('dd').textContent(), /^\$0\.0000\d+/);
    const crm = await (await fetch(FAKE + '/_requests?path=/actions/update-field')).json();
    assert.equal(crm.requests.at(-1).json.config.value, 'echo: New lead: Ana at Acme (score 71)');
    await axe(page, 'run');
    await shot(page, 'run-succeeded');
  });

  await scenario('the model fails: the run fails; after the fake recovers, retry succeeds', async () => {
    await (await fake('/_control', { mode: '500' })).text();
    await page.goto(wfUrl);
    await page.getByRole('button', { name: 'Test run' }).click();
    await page.getByLabel('lead_name', { exact: true }).fill('Bo');
    await page.getByLabel('company', { exact: true }).fill('Initech');
    await page.getByLabel('score', { exact: true }).fill('90');
    await page.getByRole('button', { name: 'Start test run' }).click();
    await page.getByRole('heading', { name: /Run #\d+ Failed/ }).waitFor({ timeout: 60000 });
    await page.getByText(/The run failed: /).waitFor();
    await shot(page, 'run-failed');
    await (await fake('/_reset')).text();
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('heading', { name: /Run #\d+ Succeeded/ }).waitFor({ timeout: 60000 });
    const text = await page.locator('ol.timeline').textContent();
    assert.match(text, /Retrying/);
    assert.match(text, /Failed/);
    assert.match(text, /echo: New lead: Bo at Initech/);
  });

  await scenario('runs list: newest first, filters, live', async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    const rows = page.locator('table.table tbody tr');
    await rows.nth(1).waitFor();
    const ids = await rows.locator('td:first-child').allTextContents();
    assert.deepEqual(ids, [...ids].sort((a, b) => Number(b.slice(1)) - Number(a.slice(1))));
    await page.getByLabel('Workflow').selectOption({ label: 'New lead follow-up' });
    await page.getByLabel('Record id').fill('lead-42');
    await page.waitForFunction(() => document.querySelectorAll('table.table tbody tr').length === 1);
    await page.getByLabel('Record id').fill('');
    await page.getByLabel('Status').selectOption('succeeded');
    await page.waitForFunction(() => document.querySelectorAll('table.table tbody tr').length === 2);
    await page.getByLabel('Status').selectOption('');
    await page.getByText(/refreshes every 3 s/).waitFor();
    await axe(page, 'runs');
    await shot(page, 'runs');
  });

  await scenario('overview: charts and the most failing steps', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Runs per day' }).waitFor();
    assert.equal(await page.locator('svg.chart').count(), 2);
    assert.ok(await page.locator('svg.chart rect').count() >= 2);
    const failing = page.locator('table.table tbody tr').first();
    assert.match(await failing.textContent(), /Summarise the lead now.*New lead follow-up.*1/);
    await axe(page, 'overview');
    await shot(page, 'overview');
  });

  await scenario('360 px wide: navigation menu and the editor stay usable', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    await page.goto(wfUrl);
    await page.getByRole('heading', { name: 'New lead follow-up', level: 1 }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
    await page.locator('li.step').nth(1).getByRole('button', { name: /^Edit/ }).click();
    await axe(page, 'editor at 360px');
    await shot(page, 'mobile-editor');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    await shot(page, 'mobile-runs');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await scenario('sign out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('aiengine.studio.session')), null);
  });

  assert.deepEqual(consoleErrors, [], 'no console errors');
  console.log(`${passed} scenarios passed`);
} finally {
  await browser.close();
}
