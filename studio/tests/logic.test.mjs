// logic.test.mjs — the Studio's pure logic: the condition builder ↔ condition_rules
// (ENGINE.md "Conditions"), {{ }} variables, and the line diff. `node --test` runs it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { emptyGroup, fromRules, parseValue, templateVars, toRules } from '../src/cond.js';
import { lineDiff } from '../src/diff.js';

const rule = (path, op, value, negate = false) => ({ path, op, value, negate });

test('one rule is written bare, typed', () => {
  assert.deepEqual(toRules({ mode: 'all', negate: false, rules: [rule('input.score', '>=', '50')] }), { 'input.score': { '>=': 50 } });
  assert.equal(toRules(emptyGroup()), null);
  assert.equal(toRules({ mode: 'any', negate: false, rules: [rule('  ', '==', 'x')] }), null);
});

test('groups, negation and value types', () => {
  const g = { mode: 'any', negate: true, rules: [rule('input.tier', 'in', 'gold, silver, 3'), rule('email.text', 'exists', 'false', true), rule('x', '==', '"42"'), rule('y', '!=', 'null')] };
  const json = { not: { any: [{ 'input.tier': { in: ['gold', 'silver', 3] } }, { not: { 'email.text': { exists: false } } }, { x: { '==': '42' } }, { y: { '!=': null } }] } };
  assert.deepEqual(toRules(g), json);
  assert.deepEqual(toRules(fromRules(json)), json); // round trip
  assert.equal(parseValue('==', 'true'), true);
  assert.equal(parseValue('==', '1.5'), 1.5);
  assert.equal(parseValue('contains', 'Acme'), 'Acme');
});

test('what the builder cannot show is left to the JSON editor', () => {
  assert.equal(fromRules({ all: [{ any: [] }] }), null);
  assert.equal(fromRules({ a: { '==': 1, '!=': 2 } }), null);
  assert.equal(fromRules({ a: { '=>': 1 } }), null);
  assert.deepEqual(fromRules(null), emptyGroup());
  assert.deepEqual(fromRules({}), emptyGroup());
});

test('template variables', () => {
  assert.deepEqual(templateVars('Hi {{ lead_name }}, {{company}} {{lead_name}} {{ steps.1.text }}'), ['lead_name', 'company', 'steps.1.text']);
  assert.deepEqual(templateVars(null), []);
});

test('line diff pairs changed lines', () => {
  assert.deepEqual(lineDiff('a\nb\nc', 'a\nB\nc\nd'), [['a', 'a', 'same'], ['b', 'B', 'change'], ['c', 'c', 'same'], [null, 'd', 'add']]);
  assert.deepEqual(lineDiff('x\ny', 'y'), [['x', null, 'del'], ['y', 'y', 'same']]);
});
