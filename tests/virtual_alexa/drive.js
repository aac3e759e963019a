#!/usr/bin/env node
/*
 * Drive a running Foot Routine endpoint with virtual-alexa, through the real interaction model.
 *
 * Why: the Python tests resolve utterances with the skill's own NLU, so they cannot show that
 * interaction_model/en-US.json (what Alexa will actually use) and the HTTP endpoint agree.
 * virtual-alexa is an independent implementation: it matches each utterance against the model's
 * samples, builds the request envelope itself and POSTs it to the URL, like the Alexa service.
 *
 * Usage:
 *   node drive.js <skill-url> <model.json> [--skill-id ID] [utterance ...]
 *
 * <model.json> may be the ask-cli file ({"interactionModel": {"languageModel": ...}}) or the bare
 * languageModel: virtual-alexa 0.7.8's InteractionModel.fromJSON unwraps either, so no temporary
 * file is written. Without utterances the default routine below is driven.
 *
 * Output: one JSON line per turn on stdout:
 *   {"utterance", "request", "intent", "ssml", "apla", "shouldEndSession"}
 * Any failure (unmatched utterance, HTTP error, bad JSON, network attempt) prints to stderr and
 * exits non-zero.
 *
 * Network: nock (a virtual-alexa dependency, same hoisted copy) is told to refuse every HTTP(S)
 * connection except to 127.0.0.1/localhost, so neither virtual-alexa nor the skill URL can reach
 * the internet from this process; a mistaken non-loopback URL fails loudly instead.
 */
"use strict";

// aws-sdk v2 (pulled in by virtual-alexa, never used to call AWS here) prints an end-of-support
// notice on require; it is noise in the test's stderr, so silence it before loading.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";

const fs = require("fs");
const nock = require("nock");
const { VirtualAlexa } = require("virtual-alexa");
const { Utterance } = require("virtual-core");

const DEFAULT_DIALOGUE = [
  "open foot routine",
  "start my foot routine",
  "next",
  "repeat that",
  "stop",
];
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;
const LAUNCH_VERBS = ["open", "launch", "start", "ask", "tell", "talk to"];

function fail(message) {
  process.stderr.write(`drive.js: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const positional = [];
  let skillId;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--skill-id") {
      skillId = argv[i + 1];
      if (!skillId) fail("--skill-id needs a value");
      i += 1;
    } else {
      positional.push(argv[i]);
    }
  }
  if (positional.length < 2) {
    fail("usage: node drive.js <skill-url> <model.json> [--skill-id ID] [utterance ...]");
  }
  const [url, modelPath, ...utterances] = positional;
  return { url, modelPath, skillId, utterances: utterances.length ? utterances : DEFAULT_DIALOGUE };
}

function invocationName(modelPath) {
  const json = JSON.parse(fs.readFileSync(modelPath, "utf8"));
  const languageModel = json.interactionModel ? json.interactionModel.languageModel : json;
  const name = languageModel && languageModel.invocationName;
  if (!name) fail(`${modelPath} has no languageModel.invocationName`);
  return name.toLowerCase();
}

/*
 * Why not alexa.utter() for every turn: in 0.7.8 utter() turns any phrase that merely *contains*
 * "ask", "open", "launch", "tell" or "talk to" (e.g. "tell me my streak", "task") into a
 * LaunchRequest. Only "<verb> <invocation name>" is a launch here; everything else is matched
 * against the model exactly as utter() does, minus that regex.
 */
async function say(alexa, text, launchPhrases) {
  if (launchPhrases.has(text.toLowerCase().trim())) {
    return alexa.launch();
  }
  const utterance = new Utterance(alexa.context().interactionModel(), text);
  if (!utterance.matched()) {
    throw new Error(`interaction model has no sample matching ${JSON.stringify(text)}`);
  }
  return alexa.call(alexa.request().intent(utterance.intent()).slots(utterance.toJSON()));
}

async function main() {
  const { url, modelPath, skillId, utterances } = parseArgs(process.argv.slice(2));
  const parsed = new URL(url);
  if (!LOOPBACK_HOST.test(parsed.host)) fail(`refusing non-loopback skill URL ${url}`);

  nock.disableNetConnect();
  nock.enableNetConnect(LOOPBACK_HOST);

  const name = invocationName(modelPath);
  const launchPhrases = new Set(LAUNCH_VERBS.map((verb) => `${verb} ${name}`));

  const builder = VirtualAlexa.Builder().skillURL(url).interactionModelFile(modelPath).locale("en-US");
  if (skillId) builder.applicationID(skillId);
  const alexa = builder.create();

  let lastRequest = null;
  alexa.filter((request) => {
    lastRequest = request;
  });

  for (const text of utterances) {
    lastRequest = null;
    let reply;
    try {
      reply = await say(alexa, text, launchPhrases);
    } catch (error) {
      // RemoteSkillInteractor rejects with a bare string on non-200 answers.
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`turn ${JSON.stringify(text)} failed: ${message}`);
    }
    const request = lastRequest ? lastRequest.request : {};
    const response = reply.response || {};
    const speech = response.outputSpeech || {};
    const line = {
      utterance: text,
      request: request.type || null,
      intent: request.intent ? request.intent.name : null,
      ssml: speech.ssml || speech.text || null,
      apla: aplaWords(response.directives),
      shouldEndSession: response.shouldEndSession === undefined ? null : response.shouldEndSession,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

// A set's rounds come as an APL for Audio document, not as outputSpeech: its words, in order.
function aplaWords(directives) {
  const apla = (directives || []).find(
    (directive) => directive.type === "Alexa.Presentation.APLA.RenderDocument");
  if (!apla) {
    return null;
  }
  const words = [];
  const walk = (item) => {
    if (item.type === "Speech") {
      words.push(item.content);
    }
    (item.items || []).forEach(walk);
  };
  (apla.document.mainTemplate.items || []).forEach(walk);
  return words.join(" ");
}

main().catch((error) => {
  fail(error && error.stack ? error.stack : String(error));
});
