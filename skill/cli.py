"""`foot-routine`: talk to the skill without a device, or serve it over HTTP.

`chat` turns typed words into the same request envelopes a device would send (using the
interaction model's own sample utterances to pick the intent) and runs them through the
Lambda handler's path, so what you try here is what Alexa gets.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ask_sdk_core.skill import CustomSkill

from skill.app import answer_event, skill_from_settings
from skill.envelopes import Device, person_id_for, slot
from skill.nlu import Resolved, Resolver, model_path, normalise
from skill.settings import Settings
from skill.voice import VoiceUnavailable

QUIT_WORDS = {"quit", "exit", "bye console"}
_INVOCATION = "foot routine"
_LAUNCH = re.compile(rf"^(?:open|launch|start|begin|load|run) (?:the )?{_INVOCATION}$")
_ONE_SHOT = re.compile(rf"^(?:ask|tell|use) (?:the )?{_INVOCATION} (?:to |for |about |if )?(.+)$")
_BREAK = re.compile(r'<break time="(\d+)ms"/>')
_TAG = re.compile(r"<[^>]+>")
_NAME = re.compile(r'<alexa:name type="first" personId="([^"]*)"/>')


def readable(ssml: str, names: Mapping[str, str] | None = None) -> str:
    """SSML as a person reads it: pauses shown as [10s], neighbouring breaks added up, and
    the name Alexa would fill in for a recognised voice as [name] (or [Ann], from `names`:
    person id -> the name the console was given)."""
    ssml = _NAME.sub(lambda match: f"[{(names or {}).get(html.unescape(match[1]), 'name')}]",
                     ssml)
    merged = re.sub(
        r'(?:<break time="\d+ms"/>\s*)+',
        lambda match: f"[{sum(int(ms) for ms in _BREAK.findall(match.group(0))) / 1000:g}s] ",
        ssml,
    )
    return html.unescape(_TAG.sub("", merged)).strip()


def console_skill(settings: Settings | None = None) -> CustomSkill:
    """The skill as Lambda builds it from the settings (the environment by default), but off
    Alexa's APIs by construction: the console's envelopes carry no real API token."""
    settings = settings or Settings.from_environment()
    return skill_from_settings(replace(settings, alexa_api_calls=False))


class Console:
    """One simulated device: keeps the session open or closed the way Alexa would."""

    def __init__(self, resolver: Resolver, out: TextIO, locale: str = "en-US",
                 on_speech: Callable[[str], None] | None = None,
                 person: str | None = None, skill: CustomSkill | None = None) -> None:
        self.skill = skill or console_skill()
        self.resolver = resolver
        self.out = out
        # `person`: the console plays a recognised voice of that name (its own progress).
        self.device = Device(locale=locale, person_id=person_id_for(person) if person else None)
        self.names = {self.device.person_id: person} if person and self.device.person_id else {}
        self.on_speech = on_speech

    def _send(self, envelope: dict[str, Any]) -> None:
        response = answer_event(self.skill, envelope, None)
        self.device.receive(response)
        body = response.get("response", {})
        speech = body.get("outputSpeech", {}).get("ssml")
        if speech:
            print(f"Alexa: {readable(speech, self.names)}", file=self.out, flush=True)
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
         on_speech: Callable[[str], None] | None = None, person: str | None = None,
         skill: CustomSkill | None = None) -> None:
    console = Console(Resolver.from_model_file(model_path(locale)), out, locale, on_speech,
                      person, skill=skill)
    # Flushed: through a pipe the banner would otherwise wait behind a blocking read of stdin.
    print("Foot Routine console. Say 'open foot routine' to begin; 'quit' to leave.", file=out,
          flush=True)
    try:
        for line in lines:
            if not line or line.startswith("#"):
                continue
            if normalise(line) in QUIT_WORDS:
                break
            if echo:
                print(f"You: {line}", file=out)
            console.say(line)
    finally:  # Ctrl-C ends the session as leaving a device would
        console.close()


class CliError(Exception):
    """A mistake the user can fix (a path, a file): one line on stderr, never a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse whose misuse report is one line: its usage block buried the reason."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _locales() -> list[str]:
    """The locales the console understands: those with an interaction model."""
    return sorted(path.stem for path in model_path().parent.glob("*.json"))


def _port(text: str) -> int:
    """A TCP port number, or a usage error: waitress would quietly listen on 99999 - 65536."""
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return port


def _person(text: str) -> str:
    """A name for --person: any words, but not none (an empty name is no voice at all)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a name is needed, such as --person Ann")
    return text.strip()


def _script(path: Path) -> list[str]:
    """The lines of a --script file, read before the first turn so a bad file costs none."""
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError as error:
        raise CliError(f"cannot read the script {path}: it is not UTF-8 text") from error
    except OSError as error:
        raise CliError(f"cannot read the script {path}: {error.strerror}") from error


def _check_wav_target(path: Path) -> None:
    """Fail before the turn (which may record progress) if the WAV file cannot be written."""
    if path.is_dir():
        raise CliError(f"--wav {path} is a folder; name a file, such as {path / 'reply.wav'}")
    if not path.parent.is_dir():
        raise CliError(f"--wav {path}: there is no folder {path.parent}")
    if not os.access(path.parent, os.W_OK):
        raise CliError(f"--wav {path}: the folder {path.parent} is not writable")


def _speaker(locale: str) -> Callable[[str], None]:
    """`--voice`: before the first turn, make sure a reply would be heard here."""
    from skill import voice

    voice.check_sound_output(locale)
    return lambda ssml: voice.speak(ssml, locale)


def say_to_wav(utterance: str, wav: Path, out: TextIO, locale: str = "en-US") -> None:
    """One turn, its speech written to a WAV file (pauses included)."""
    from skill import voice

    voice.require()
    _check_wav_target(wav)
    said: list[str] = []
    console = Console(Resolver.from_model_file(model_path(locale)), out, locale, said.append)
    console.say(utterance)
    console.close()
    if not said:
        raise CliError("the skill said nothing to write")
    voice.write_wav(said[0], wav, locale)
    print(f"wrote {wav}", file=out)


def _serve(args: argparse.Namespace) -> None:
    from skill.serve import serve

    serve(host=args.host, port=args.port, dev=args.dev)


def main(argv: list[str] | None = None) -> None:
    """The `foot-routine` command: any misuse ends in one line on stderr and a non-zero exit."""
    parser = _Parser(prog="foot-routine", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    chat_parser = commands.add_parser("chat", help="talk to the skill by typing")
    chat_parser.add_argument("--script", type=Path, help="read utterances from this file")
    chat_parser.add_argument("--locale", default="en-US", choices=_locales())
    chat_parser.add_argument("--voice", action="store_true",
                             help="also speak each reply through espeak-ng")
    chat_parser.add_argument("--metrics", action="store_true",
                             help="print the funnel and turn metrics when the chat ends")
    chat_parser.add_argument("--person", metavar="NAME", type=_person,
                             help="speak as a recognised voice of this name (own progress)")
    say_parser = commands.add_parser("say", help="one utterance; the reply as a WAV file")
    say_parser.add_argument("utterance")
    say_parser.add_argument("--wav", type=Path, required=True)
    say_parser.add_argument("--locale", default="en-US", choices=_locales())
    serve_parser = commands.add_parser("serve", help="serve the skill as an HTTPS web service")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=_port, default=5000)
    serve_parser.add_argument("--dev", action="store_true",
                              help="no request verification (loopback only)")
    serve_parser.add_argument("--metrics", action="store_true",
                              help="print the funnel and turn metrics after each session")
    args = parser.parse_args(argv)
    try:
        _start(args)
    except (CliError, VoiceUnavailable) as error:
        parser.exit(1, f"{parser.prog} {args.command}: {error}\n")
    except KeyboardInterrupt:  # Ctrl-C is how a person leaves the console or stops the server
        parser.exit(130, "\n")


def _start(args: argparse.Namespace) -> None:
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
    script = _script(args.script) if args.script else None
    speaker = _speaker(args.locale) if args.voice else None
    if script is not None:
        chat(script, sys.stdout, echo=True, locale=args.locale, on_speech=speaker,
             person=args.person)
        return
    chat(_lines(sys.stdin, sys.stdin.isatty()), sys.stdout, echo=not sys.stdin.isatty(),
         locale=args.locale, on_speech=speaker, person=args.person)
