#!/usr/bin/env node
/*
 * Match phrases against an interaction model with virtual-alexa's own matcher, no skill needed.
 *
 * Why: tests/test_phrase_corpus.py resolves the corpus with the skill's resolver (skill/tools/nlu.py);
 * this runs the same lines through an independent implementation of literal sample matching,
 * the pinned virtual-alexa in tests/virtual_alexa (built-in intents' default phrases included),
 * so a quirk of our resolver cannot make the corpus pass.
 *
 * Usage: node match.js <model.json>   with a JSON list of phrases on stdin.
 * Output: a JSON list, one {"intent", "slots"} per phrase, or null when nothing matched.
 * No network: nothing here opens a connection.
 */
"use strict";

const fs = require("fs");
const path = require("path");

const MODULES = path.join(__dirname, "..", "virtual_alexa", "node_modules");
const { InteractionModel } = require(
  path.join(MODULES, "virtual-alexa", "lib", "src", "model", "InteractionModel"),
);
const { Utterance } = require(path.join(MODULES, "virtual-core"));

const [modelPath] = process.argv.slice(2);
if (!modelPath) {
  process.stderr.write("usage: node match.js <model.json> < phrases.json\n");
  process.exit(2);
}
const model = InteractionModel.fromJSON(JSON.parse(fs.readFileSync(modelPath, "utf8")));
const phrases = JSON.parse(fs.readFileSync(0, "utf8"));
const matches = phrases.map((phrase) => {
  const utterance = new Utterance(model, phrase);
  return utterance.matched() ? { intent: utterance.intent(), slots: utterance.toJSON() } : null;
});
process.stdout.write(JSON.stringify(matches));
