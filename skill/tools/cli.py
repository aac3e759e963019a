"""`foot-routine`: talk to the skill without a device, or serve it over HTTP.

`chat` turns typed words into the same request envelopes a device would send (using the
interaction model's own sample utterances to pick the intent) and runs them through the
Lambda handler's path, so what you try here is what Alexa gets.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ask_sdk_core.skill import CustomSkill

from skill.alexa.app import answer_event, skill_from_settings
from skill.conversation.frozen import replace
from skill.conversation.speech import from_ssml
from skill.conversation.timeline import (
    Timeline,
    apla_of,
    from_apla,
    has_sounds,
    to_console,
    total_seconds,
)
from skill.settings import Settings
from skill.tools import console_commands
from skill.tools.envelopes import Device, person_id_for, slot
from skill.tools.nlu import Resolved, Resolver, model_path, normalise
from skill.tools.voice import VoiceUnavailable

QUIT_WORDS = {"quit", "exit", "bye console"}
_INVOCATION = "foot routine"
_LAUNCH = re.compile(rf"^(?:open|launch|start|begin|load|run) (?:the )?{_INVOCATION}$")
_ONE_SHOT = re.compile(rf"^(?:ask|tell|use) (?:the )?{_INVOCATION} (?:to |for |about |if )?(.+)$")
# A person answers about a second after a reply has played; Alexa listens about 8 s after
# a reply, and as long again after the reprompt, before it ends the session.
ANSWER_SECONDS = 1
LISTEN_SECONDS = 8


def readable(ssml: str, names: Mapping[str, str] | None = None) -> str:
    """SSML as a person reads it, in the one text form of skill/conversation/timeline.py: pauses as
    [10s] (neighbouring breaks added up) and a recognised voice's name as [name] or [Ann]."""
    return to_console(from_ssml(ssml), names)


def played(body: dict[str, Any]) -> Timeline:
    """What a device plays for a response body: its outputSpeech, then its APLA document
    (a set's rounds, with their ticks and chimes), read back from what was sent."""
    rounds = apla_of(body)
    speech = from_ssml(body.get("outputSpeech", {}).get("ssml", ""))
    return (*speech, *from_apla(rounds)) if rounds else speech


def console_skill(settings: Settings | None = None) -> CustomSkill:
    """The skill as Lambda builds it from the settings (the environment by default), but off
    Alexa's APIs by construction: the console's envelopes carry no real API token."""
    settings = settings or Settings.from_environment()
    return skill_from_settings(replace(settings, alexa_api_calls=False))


class Console:
    """One simulated device: keeps the session open or closed the way Alexa would, and
    Alexa's clock. Each reply plays for as long as its audio lasts and the person answers
    after it, unless they cut in (console_commands.py); every request carries that clock
    as `request.timestamp`, which is all the skill reads for "now"."""

    def __init__(self, resolver: Resolver, out: TextIO, locale: str = "en-US",
                 on_speech: Callable[[Timeline], None] | None = None,
                 person: str | None = None, skill: CustomSkill | None = None) -> None:
        self.skill = skill or console_skill()
        self.resolver = resolver
        self.out = out
        # Alexa's timestamps are whole seconds; the clock starts at the real time.
        self.now = datetime.now(UTC).replace(microsecond=0)
        # `person`: the console plays a recognised voice of that name (its own progress).
        self.device = Device(locale=locale, person_id=person_id_for(person) if person else None,
                             clock=lambda: self.now)
        self.names = {self.device.person_id: person} if person and self.device.person_id else {}
        self.on_speech = on_speech
        self._playing_from = self.now  # when the last reply began to play
        self._playing = 0.0  # and how long it plays
        self._reprompt: Timeline = ()

    def _send(self, envelope: dict[str, Any]) -> Timeline:
        response = answer_event(self.skill, envelope, None)
        self.device.receive(response)
        body = response.get("response", {})
        heard = played(body)
        self._playing_from, self._playing = self.now, total_seconds(heard)
        self._reprompt = from_ssml(body.get("reprompt", {}).get("outputSpeech", {}).get("ssml", ""))
        self._play(heard)
        if self.device.session_id is None and envelope["request"]["type"] != "SessionEndedRequest":
            print("  (the skill ended the session; say 'open foot routine' to start again)",
                  file=self.out)
        return heard

    def _play(self, heard: Timeline) -> None:
        if not heard:
            return
        print(f"Alexa: {to_console(heard, self.names)}", file=self.out, flush=True)
        if has_sounds(heard):
            print(f"  (plays {total_seconds(heard):.0f} s; to cut in, type "
                  "!pause after <N>s)", file=self.out, flush=True)
        if self.on_speech:
            self.on_speech(heard)

    def _played_out(self) -> datetime:
        """When the last reply has finished playing, on Alexa's whole-second clock."""
        return self._playing_from + timedelta(seconds=math.ceil(self._playing))

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

    def say(self, line: str) -> Timeline:
        """One line typed: words said once the reply has played, or a console command.
        Returns what Alexa played in answer (nothing for a wait or a mistake)."""
        try:
            command = console_commands.parse(line)
        except console_commands.CommandError as error:
            print(f"  ({error})", file=self.out)
            return ()
        if command is None:
            self.now = max(self.now, self._played_out() + timedelta(seconds=ANSWER_SECONDS))
            return self._words(line)
        if isinstance(command, console_commands.BargeIn):
            return self._barge_in(command)
        if isinstance(command, console_commands.Silence):
            return self._time_out()
        if isinstance(command, console_commands.Wait):
            return self._wait(command.seconds)
        print(console_commands.HELP, file=self.out)
        return ()

    def _words(self, utterance: str) -> Timeline:
        """Words routed like Alexa routes them."""
        words = normalise(utterance)
        if _LAUNCH.match(words):
            return self._send(self.device.launch())
        one_shot = _ONE_SHOT.match(words)
        if one_shot:
            self.device.session_id = None
            return self._send(self._intent(self._resolve(one_shot.group(1))))
        if self.device.session_id is None:
            print(f"  (no open session: sending it as 'Alexa, ask {_INVOCATION} to {words}')",
                  file=self.out)
        return self._send(self._intent(self._resolve(words)))

    def _barge_in(self, command: console_commands.BargeIn) -> Timeline:
        """ "Alexa, pause" said N seconds into the reply: playback stops and the request
        reaches the skill in the same session, stamped N seconds after the one before."""
        if self.device.session_id is None or not self._playing:
            print("  (nothing is playing in an open session to cut in on; say the words "
                  "without '!')", file=self.out)
            return ()
        if command.seconds > math.ceil(self._playing) + LISTEN_SECONDS:
            print(f"  (after {command.seconds} s the microphone had closed: the reply plays "
                  f"{self._playing:.0f} s and Alexa listens {LISTEN_SECONDS} s after it; "
                  "type !silence to let it time out)", file=self.out)
            return ()
        self.now = max(self.now, self._playing_from + timedelta(seconds=command.seconds))
        return self._words(command.words)

    def _time_out(self) -> Timeline:
        """Nothing said: Alexa listens, plays the reprompt, listens again, then ends the
        session as a device does (SessionEndedRequest, EXCEEDED_MAX_REPROMPTS)."""
        if self.device.session_id is None:
            print("  (no open session: nothing is listening)", file=self.out)
            return ()
        reprompt = self._reprompt
        self.now = max(self.now, self._played_out() + timedelta(seconds=LISTEN_SECONDS))
        self._play(reprompt)
        self.now += timedelta(seconds=math.ceil(total_seconds(reprompt)) + LISTEN_SECONDS)
        print("  (no answer: the microphone closed and Alexa ended the session)",
              file=self.out)
        self._send(self.device.session_ended("EXCEEDED_MAX_REPROMPTS"))
        return reprompt

    def _wait(self, seconds: int) -> Timeline:
        """Time passes; an open session cannot wait with it, so it times out first."""
        reprompt = self._time_out() if self.device.session_id is not None else ()
        self.now = max(self.now, self._played_out()) + timedelta(seconds=seconds)
        print(f"  (later: it is now {self.now:%a %d %b %Y, %H:%M} UTC on Alexa's clock)",
              file=self.out)
        return reprompt

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


def said(lines: Iterable[str]) -> Iterator[str]:
    """The lines the console acts on: blank lines and # comments aside, up to a quit."""
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if normalise(line) in QUIT_WORDS:
            return
        yield line


def chat(lines: Iterable[str], out: TextIO, echo: bool, locale: str = "en-US",
         on_speech: Callable[[Timeline], None] | None = None, person: str | None = None,
         skill: CustomSkill | None = None) -> None:
    console = Console(Resolver.from_model_file(model_path(locale)), out, locale, on_speech,
                      person, skill=skill)
    # Flushed: through a pipe the banner would otherwise wait behind a blocking read of stdin.
    print("Foot Routine console. Say 'open foot routine' to begin; '!help' for the console's "
          "commands; 'quit' to leave.", file=out, flush=True)
    try:
        for line in said(lines):
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


def _turn(text: str) -> int:
    """A turn number for --turn: 1 is the first line said."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a turn number (1 or more)")
    return int(text)


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


def _speaker(locale: str) -> Callable[[Timeline], None]:
    """`--voice`: before the first turn, make sure a reply would be heard here."""
    from skill.tools import voice

    voice.require()
    voice.check_sound_output()
    return lambda heard: voice.speak(heard, locale)


def say_to_wav(lines: Iterable[str], wav: Path, out: TextIO, locale: str = "en-US",
               turn: int | None = None) -> None:
    """A dialogue played up to turn `turn` (the last by default) and that turn's reply
    written to a WAV file, sounds and silences at their real length. A turn is a line the
    console acts on, so `--turn 4` is the fourth such line of a script."""
    from skill.tools import voice

    voice.require()
    _check_wav_target(wav)
    turns = list(said(lines))
    number = turn or len(turns)
    if not 1 <= number <= len(turns):
        raise CliError(f"--turn {number}: the script has {len(turns)} turns")
    console = Console(Resolver.from_model_file(model_path(locale)), out, locale)
    try:
        for line in turns[:number]:
            print(f"You: {line}", file=out)
            reply = console.say(line)
    finally:
        console.close()
    if not reply:
        raise CliError(f"turn {number} ({turns[number - 1]!r}) plays nothing to write")
    voice.write_wav(reply, wav, locale)
    print(f"wrote {wav} (turn {number}: {turns[number - 1]})", file=out)


def _serve(args: argparse.Namespace) -> None:
    from skill.web.serve import serve

    serve(host=args.host, port=args.port, dev=args.dev)


def main(argv: list[str] | None = None) -> None:
    """The `foot-routine` command: any misuse ends in one line on stderr and a non-zero exit."""
    parser = _Parser(prog="foot-routine", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    chat_parser = commands.add_parser(
        "chat", help="talk to the skill by typing", description="Talk to the skill by typing.",
        epilog=console_commands.HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    chat_parser.add_argument("--script", type=Path, help="read utterances from this file")
    chat_parser.add_argument("--locale", default="en-US", choices=_locales())
    chat_parser.add_argument("--voice", action="store_true",
                             help="also play each reply, words through espeak-ng")
    chat_parser.add_argument("--metrics", action="store_true",
                             help="print the funnel and turn metrics when the chat ends")
    chat_parser.add_argument("--person", metavar="NAME", type=_person,
                             help="speak as a recognised voice of this name (own progress)")
    say_parser = commands.add_parser("say", help="one utterance, or one turn of a script; "
                                     "the reply as a WAV file")
    say_parser.add_argument("utterance", nargs="?")
    say_parser.add_argument("--script", type=Path, help="play this file's lines (as chat does)")
    say_parser.add_argument("--turn", type=_turn, metavar="N",
                            help="with --script: write the reply to its Nth line (default: "
                                 "the last)")
    say_parser.add_argument("--wav", type=Path, metavar="FILE", help="where to write it (required)")
    say_parser.add_argument("--locale", default="en-US", choices=_locales())
    serve_parser = commands.add_parser("serve", help="serve the skill as an HTTPS web service")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=_port, default=5000)
    serve_parser.add_argument("--dev", action="store_true",
                              help="no request verification (loopback only)")
    serve_parser.add_argument("--metrics", action="store_true",
                              help="print the funnel and turn metrics after each session")
    args = parser.parse_args(argv)
    if args.command == "say":
        _check_say(parser, args)
    try:
        _start(args)
    except (CliError, VoiceUnavailable) as error:
        parser.exit(1, f"{parser.prog} {args.command}: {error}\n")
    except KeyboardInterrupt:  # Ctrl-C is how a person leaves the console or stops the server
        parser.exit(130, "\n")


def _check_say(parser: _Parser, args: argparse.Namespace) -> None:
    """What `say` needs, checked in the order a person fills it in: what to say, then
    where to write it (argparse alone would ask for --wav before the utterance)."""
    if (args.utterance is None) == (args.script is None):
        parser.error("say needs an utterance, or --script FILE (not both)")
    if args.wav is None:
        parser.error("say needs --wav FILE, where the reply is written")
    if args.turn and args.script is None:
        parser.error("--turn picks a line of a --script")


def _start(args: argparse.Namespace) -> None:
    if not getattr(args, "metrics", False):
        _run(args)
        return
    from skill.ops.telemetry import funnel_printed

    with funnel_printed(sys.stdout, each_session=args.command == "serve"):
        _run(args)


def _run(args: argparse.Namespace) -> None:
    if args.command == "serve":
        _serve(args)
        return
    if args.command == "say":
        lines = _script(args.script) if args.script else [args.utterance]
        say_to_wav(lines, args.wav, sys.stdout, args.locale, args.turn)
        return
    script = _script(args.script) if args.script else None
    speaker = _speaker(args.locale) if args.voice else None
    if script is not None:
        chat(script, sys.stdout, echo=True, locale=args.locale, on_speech=speaker,
             person=args.person)
        return
    chat(_lines(sys.stdin, sys.stdin.isatty()), sys.stdout, echo=not sys.stdin.isatty(),
         locale=args.locale, on_speech=speaker, person=args.person)
