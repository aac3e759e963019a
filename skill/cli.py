"""`foot-routine`: talk to the skill without a device, or serve it over HTTP.

`chat` turns typed words into the same request envelopes a device would send (using the
interaction model's own sample utterances to pick the intent) and runs them through the
Lambda handler, so what you try here is what Alexa gets.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from skill.envelopes import Device, slot
from skill.nlu import Resolved, Resolver, model_path, normalise

QUIT_WORDS = {"quit", "exit", "bye console"}
_INVOCATION = "foot routine"
_LAUNCH = re.compile(rf"^(?:open|launch|start|begin|load|run) (?:the )?{_INVOCATION}$")
_ONE_SHOT = re.compile(rf"^(?:ask|tell|use) (?:the )?{_INVOCATION} (?:to |for |about |if )?(.+)$")
_BREAK = re.compile(r'<break time="(\d+)ms"/>')
_TAG = re.compile(r"<[^>]+>")


def readable(ssml: str) -> str:
    """SSML as a person reads it: pauses shown as [10s], neighbouring breaks added up."""
    merged = re.sub(
        r'(?:<break time="\d+ms"/>\s*)+',
        lambda match: f"[{sum(int(ms) for ms in _BREAK.findall(match.group(0))) / 1000:g}s] ",
        ssml,
    )
    return html.unescape(_TAG.sub("", merged)).strip()


class Console:
    """One simulated device: keeps the session open or closed the way Alexa would."""

    def __init__(self, resolver: Resolver, out: TextIO, locale: str = "en-US",
                 on_speech: Callable[[str], None] | None = None) -> None:
        # The console's envelopes carry no real API token: stay off Alexa's APIs.
        os.environ.setdefault("ALEXA_API_CALLS", "0")
        from skill.lambda_function import handler

        self.handler = handler
        self.resolver = resolver
        self.out = out
        self.device = Device(locale=locale)
        self.on_speech = on_speech

    def _send(self, envelope: dict[str, Any]) -> None:
        response = self.handler(envelope, None)
        self.device.receive(response)
        body = response.get("response", {})
        speech = body.get("outputSpeech", {}).get("ssml")
        if speech:
            print(f"Alexa: {readable(speech)}", file=self.out, flush=True)
            if self.on_speech:
                self.on_speech(speech)
        if self.device.session_id is None and envelope["request"]["type"] != "SessionEndedRequest":
            print("  (the skill ended the session; say 'open foot routine' to start again)",
                  file=self.out)

    def _intent(self, resolved: Resolved) -> dict[str, Any]:
        slots = {
            name: slot(name, value.spoken, value.value_id, value.value_name)
            for name, value in resolved.slots.items()
        }
        return self.device.intent(resolved.intent, slots)

    def _resolve(self, words: str) -> Resolved:
        resolved = self.resolver.resolve(words)
        if resolved is None:
            print("  (I didn't catch that as any intent of the model; sending it as "
                  "AMAZON.FallbackIntent, as Alexa would)", file=self.out)
            return Resolved("AMAZON.FallbackIntent", {})
        return resolved

    def say(self, utterance: str) -> None:
        """One thing the user says, routed like Alexa routes it."""
        words = normalise(utterance)
        if _LAUNCH.match(words):
            self._send(self.device.launch())
            return
        one_shot = _ONE_SHOT.match(words)
        if one_shot:
            self.device.session_id = None
            self._send(self._intent(self._resolve(one_shot.group(1))))
            return
        if self.device.session_id is None:
            print(f"  (no open session: sending it as 'Alexa, ask {_INVOCATION} to {words}')",
                  file=self.out)
        self._send(self._intent(self._resolve(words)))

    def close(self) -> None:
        """Leaving mid-session: Alexa would send SessionEndedRequest, so we do too."""
        if self.device.session_id is not None:
            self._send(self.device.session_ended("USER_INITIATED"))


def _lines(stream: TextIO, interactive: bool) -> Iterator[str]:
    while True:
        if interactive:
            print("You: ", end="", flush=True)
        line = stream.readline()
        if not line:
            return
        yield line.strip()


def chat(lines: Iterable[str], out: TextIO, echo: bool, locale: str = "en-US",
         on_speech: Callable[[str], None] | None = None) -> None:
    console = Console(Resolver.from_model_file(model_path(locale)), out, locale, on_speech)
    print("Foot Routine console. Say 'open foot routine' to begin; 'quit' to leave.", file=out)
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if normalise(line) in QUIT_WORDS:
            break
        if echo:
            print(f"You: {line}", file=out)
        console.say(line)
    console.close()


def _speaker(locale: str) -> Callable[[str], None]:
    """`--voice`: fail early, with install advice, if espeak-ng is missing."""
    from skill import voice

    if shutil.which("espeak-ng") is None:
        raise SystemExit(voice.INSTALL_HINT)
    return lambda ssml: voice.speak(ssml, locale)


def say_to_wav(utterance: str, wav: Path, out: TextIO, locale: str = "en-US") -> None:
    """One turn, its speech written to a WAV file (pauses included)."""
    from skill import voice

    said: list[str] = []
    console = Console(Resolver.from_model_file(model_path(locale)), out, locale, said.append)
    console.say(utterance)
    console.close()
    if not said:
        raise SystemExit("the skill said nothing to write")
    try:
        voice.write_wav(said[0], wav, locale)
    except voice.VoiceUnavailable as error:
        raise SystemExit(str(error)) from error
    print(f"wrote {wav}", file=out)


def _serve(args: argparse.Namespace) -> None:
    from skill.serve import serve

    serve(host=args.host, port=args.port, dev=args.dev)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="foot-routine", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    chat_parser = commands.add_parser("chat", help="talk to the skill by typing")
    chat_parser.add_argument("--script", type=Path, help="read utterances from this file")
    chat_parser.add_argument("--locale", default="en-US")
    chat_parser.add_argument("--voice", action="store_true",
                             help="also speak each reply through espeak-ng")
    chat_parser.add_argument("--metrics", action="store_true",
                             help="print the funnel and turn metrics when the chat ends")
    say_parser = commands.add_parser("say", help="one utterance; the reply as a WAV file")
    say_parser.add_argument("utterance")
    say_parser.add_argument("--wav", type=Path, required=True)
    say_parser.add_argument("--locale", default="en-US")
    serve_parser = commands.add_parser("serve", help="serve the skill as an HTTPS web service")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=5000)
    serve_parser.add_argument("--dev", action="store_true",
                              help="no request verification (loopback only)")
    serve_parser.add_argument("--metrics", action="store_true",
                              help="print the funnel and turn metrics after each session")
    args = parser.parse_args(argv)
    if not getattr(args, "metrics", False):
        _run(args)
        return
    from skill.telemetry import funnel_printed

    with funnel_printed(sys.stdout, each_session=args.command == "serve"):
        _run(args)


def _run(args: argparse.Namespace) -> None:
    if args.command == "serve":
        _serve(args)
        return
    if args.command == "say":
        say_to_wav(args.utterance, args.wav, sys.stdout, args.locale)
        return
    speaker = _speaker(args.locale) if args.voice else None
    if args.script:
        with args.script.open(encoding="utf-8") as stream:
            chat(list(_lines(stream, False)), sys.stdout, echo=True, locale=args.locale,
                 on_speech=speaker)
        return
    chat(_lines(sys.stdin, sys.stdin.isatty()), sys.stdout, echo=not sys.stdin.isatty(),
         locale=args.locale, on_speech=speaker)
