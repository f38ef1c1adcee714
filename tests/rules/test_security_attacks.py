"""Attacks read across Call-IDs (issue 18): scanners by User-Agent (S101) and by behaviour
(S102), password guessing (S103), credential stuffing (S104), an account accepted after a run
of refusals (S105), and the sliding window that finds their runs (``checks.bursts``).

The flows are built here; what must not fire is what an edge carries every day: a registrar
challenging each of its users before accepting them (RFC 3261 22.2: a challenge answered
correctly is no failure), a trunk's calls ringing and answered, a phone with an old password
retrying once a minute (RFC 5626 4.5 asks clients to back off).
"""

from __future__ import annotations

from collections.abc import Sequence

from sipdiag.dialogs.sources import Attempt
from sipdiag.network import Endpoint
from sipdiag.rules.checks.bursts import Burst, Threshold, runs
from tests.rules.test_security_ledger import (
    DOMAIN,
    PHONE,
    REALM,
    SECOND,
    SERVER,
    Capture,
    Subject,
    attempt,
    call,
    digest,
    host_probe,
    ledger_of,
    ns,
    values,
)

SCANNER = Endpoint("203.0.113.66", 5070)
GUESSER = Endpoint("203.0.113.77", 5070)
NAT = Endpoint("192.0.2.200", 5060)
"""The public address of an office behind NAT: many phones, one source."""
MINUTE = 60 * SECOND


# -- bursts: the sliding window --------------------------------------------------------------

WRONG = Burst(lambda a: a.refused, lambda a: a.target)


def sent(*events: tuple[float, str, int]) -> list[Attempt]:
    """The attempts of OPTIONS sent at (seconds, user, final status), in that order."""
    capture = Capture()
    return list(ledger_of(attempt(capture, at=at, method="OPTIONS", src=SCANNER, to=user,
                                  uri=f"sip:{user}@{DOMAIN}", answers=(status,))
                          for at, user, status in events).in_order())


def found(attempts: Sequence[Attempt], threshold: Threshold) -> list[list[float]]:
    """The runs, each as the times (seconds) of its attempts."""
    return [[round((a.request.ts_ns - ns(0)) / SECOND, 3) for a in run]
            for run in runs(attempts, WRONG, threshold)]


def test_a_run_needs_the_count_of_wrong_attempts() -> None:
    three = sent((0, "a", 404), (1, "b", 404), (2, "c", 404))
    assert found(three, Threshold(10 * SECOND, count=3)) == [[0, 1, 2]]
    assert found(three[:2], Threshold(10 * SECOND, count=3)) == []
    assert found(three, Threshold(10 * SECOND, count=4)) == []


def test_a_run_needs_the_distinct_keys() -> None:
    same = sent((0, "a", 404), (1, "a", 404), (2, "b", 404))
    assert found(same, Threshold(10 * SECOND, distinct=3)) == []
    assert found(same, Threshold(10 * SECOND, distinct=2)) == [[0, 1, 2]]


def test_the_share_of_wrong_attempts_is_met_at_its_boundary() -> None:
    """4 refused of 5 is 80 %: met at 80 (``>=``), not at 81; 4 of 6 is not 80 %."""
    one_right = sent((0, "ok", 200), (1, "a", 404), (2, "b", 404), (3, "c", 404), (4, "d", 404))
    assert found(one_right, Threshold(10 * SECOND, count=4, percent=80.0)) == [[1, 2, 3, 4]]
    assert found(one_right, Threshold(10 * SECOND, count=4, percent=81.0)) == []
    two_right = sent((0, "ok", 200), (0.5, "ok2", 200), (1, "a", 404), (2, "b", 404),
                     (3, "c", 404), (4, "d", 404))
    assert found(two_right, Threshold(10 * SECOND, count=4, percent=80.0)) == []


def test_the_window_holds_attempts_exactly_its_length_apart() -> None:
    """``within window``: the code keeps an attempt sent exactly ``window`` after the first
    (it drops those more than ``window`` before the newest)."""
    assert found(sent((0, "a", 404), (60, "b", 404)), Threshold(MINUTE, count=2)) == [[0, 60]]
    assert found(sent((0, "a", 404), (60.001, "b", 404)), Threshold(MINUTE, count=2)) == []


def test_runs_apart_are_two_runs_and_overlapping_windows_one() -> None:
    apart = sent((0, "a", 404), (1, "b", 404), (2, "c", 404),
                 (100, "d", 404), (101, "e", 404), (102, "f", 404))
    assert found(apart, Threshold(10 * SECOND, count=3)) == [[0, 1, 2], [100, 101, 102]]
    # each window of 10 s holds three, each shares two with the one before: one run of 5
    sliding = sent(*((5.0 * n, f"u{n}", 404) for n in range(5)))
    assert found(sliding, Threshold(10 * SECOND, count=3)) == [[0, 5, 10, 15, 20]]
    # windows of 10 s (ends included) sharing one attempt each: one run
    chained = sent((0, "a", 404), (10, "b", 404), (20, "c", 404))
    assert found(chained, Threshold(10 * SECOND, count=2)) == [[0, 10, 20]]
    # two runs whose windows share no attempt, though only 10 s apart
    near = sent((0, "a", 404), (1, "b", 404), (2, "c", 404),
                (12.5, "d", 404), (13, "e", 404), (14, "f", 404))
    assert found(near, Threshold(10 * SECOND, count=3)) == [[0, 1, 2], [12.5, 13, 14]]


def test_a_run_holds_only_its_wrong_attempts_in_the_order_sent() -> None:
    mixed = sent((0, "a", 404), (1, "ok", 200), (2, "b", 403), (3, "ok", 200), (4, "c", 401),
                 (100, "d", 404), (101, "ok", 200), (102, "e", 484), (103, "f", 404))
    assert found(mixed, Threshold(10 * SECOND, count=3)) == [[0, 2, 4], [100, 102, 103]]


def test_no_attempts_no_runs() -> None:
    assert found([], Threshold(MINUTE)) == []
    assert found(sent((0, "ok", 200)), Threshold(MINUTE)) == []


# -- S101: a scanner's User-Agent ------------------------------------------------------------


def probes(capture: Capture, count: int, *, at: float = 0.0, every: float = 1.0,
           src: Endpoint = SCANNER, method: str = "REGISTER", status: int = 404,
           agent: str = "", first_user: int = 100) -> list[Subject]:
    """``count`` requests for the users 100, 101, ... (To; the Request-URI too unless a
    REGISTER), ``every`` seconds apart, each answered ``status``."""
    return [attempt(capture, at=at + every * n, src=src, method=method, user=str(first_user + n),
                    to=str(first_user + n), agent=agent, answers=(status,),
                    uri=f"sip:{DOMAIN}" if method == "REGISTER"
                    else f"sip:{first_user + n}@{DOMAIN}")
            for n in range(count)]


def test_a_scanners_user_agent_is_found_in_any_case_once_per_source() -> None:
    capture = Capture()
    subjects = [
        *probes(capture, 3, agent="Friendly-Scanner", method="OPTIONS"),
        *probes(capture, 2, at=3.0, agent="friendly-scanner", status=401, first_user=200),
        *probes(capture, 2, at=10.0, src=GUESSER, agent="SIPVICIOUS 0.3.4", status=403),
        *probes(capture, 2, at=20.0, src=PHONE, agent="Yealink SIP-T46S", status=200),
    ]
    [scanner, guesser] = values("S101", subjects)
    assert {k: scanner[k] for k in ("source", "count", "agent", "methods", "users",
                                    "statuses")} == {
        "source": SCANNER.ip, "count": "5", "agent": "Friendly-Scanner",
        "methods": "OPTIONS, REGISTER", "users": "5", "statuses": "404 x3, 401 x2"}
    assert (scanner["first_frame"], scanner["last_frame"]) == (
        str(subjects[0].messages[0].frame), str(subjects[4].messages[0].frame))
    assert (scanner["start"], scanner["end"], scanner["span"]) == (
        "2023-11-14 22:13:20.000", "2023-11-14 22:13:24.000", "4.000")
    assert (guesser["source"], guesser["agent"], guesser["count"]) == (
        GUESSER.ip, "SIPVICIOUS 0.3.4", "2")


def test_the_agents_are_a_parameter() -> None:
    subjects = probes(Capture(), 2, agent="sipcli/v1.8")
    assert values("S101", subjects) != []
    assert values("S101", subjects, agents=("friendly-scanner",)) == []


# -- S102: many users probed and refused ------------------------------------------------------


def test_ten_users_refused_within_a_minute_are_an_enumeration() -> None:
    capture = Capture()
    subjects = probes(capture, 10, every=5.0)  # 0 to 45 s
    [scan] = values("S102", subjects)
    assert (scan["source"], scan["users"], scan["count"], scan["methods"]) == (
        SCANNER.ip, "10", "10", "REGISTER")
    assert scan["examples"] == "100, 101, 102, 103, 104 (+5)"
    assert (scan["statuses"], scan["span"]) == ("404 x10", "45.000")
    assert values("S102", subjects[:9]) == []


def test_users_challenged_or_left_unanswered_count_as_refused() -> None:
    capture = Capture()
    subjects = [*probes(capture, 5, status=401), *probes(capture, 3, at=5.0, status=0,
                                                         first_user=200),
                *probes(capture, 2, at=8.0, status=484, first_user=300)]
    [scan] = values("S102", subjects)
    assert (scan["users"], scan["statuses"]) == ("10", "401 x5, none x3, 484 x2")


def test_users_refused_but_too_slowly_or_too_few_of_the_attempts_are_no_enumeration() -> None:
    capture = Capture()
    slow = probes(capture, 10, every=7.0)  # 63 s from the first to the last
    assert values("S102", slow) == []
    capture = Capture()
    # 3 accepted, then 10 refused, within the minute: 77 % refused
    diluted = [*probes(capture, 3, status=200, first_user=200), *probes(capture, 10, at=3.0)]
    assert values("S102", diluted) == []
    assert len(values("S102", diluted, refused_percent=75.0)) == 1


def test_a_busy_registrar_is_no_enumeration() -> None:
    """Sixty phones behind one NAT address register within a minute; each REGISTER is
    challenged 401 and accepted 200 on its retry with credentials (RFC 3261 22.2)."""
    capture = Capture()
    phones = [attempt(capture, at=0.9 * n, src=Endpoint(NAT.ip, 5060 + n), user=f"{2000 + n}",
                      answers=(401, 200), credentials=digest(f"{2000 + n}"))
              for n in range(60)]
    assert values("S102", phones) == []
    assert values("S103", phones) == values("S104", phones) == values("S105", phones) == []
    # the same sixty, each left at its challenge: a scan
    capture = Capture()
    challenged = [attempt(capture, at=0.9 * n, src=NAT, user=f"{2000 + n}", answers=(401,))
                  for n in range(60)]
    [scan] = values("S102", challenged)
    assert (scan["users"], scan["statuses"]) == ("60", "401 x60")


def test_a_trunks_calls_to_many_users_are_no_enumeration() -> None:
    """A carrier's trunk sends 30 INVITEs to 30 numbers in half a minute; each rings (180) and
    is answered (200); a few are busy (486) or unanswered (480), not probes' refusals."""
    capture = Capture()
    trunk = Endpoint("198.51.100.200", 5060)
    calls = [call(capture, f"+44207946{1000 + n}", at=1.0 * n, src=trunk, dst=SERVER,
                  answers=((486,) if n % 10 == 3 else (480,) if n % 10 == 7 else (200,)),
                  ringing=True)
             for n in range(30)]
    assert values("S102", calls) == []
    assert values("S107", calls) == []  # answered calls last 30 s: not short


# -- S103: password guessing ------------------------------------------------------------------


def guesses(capture: Capture, count: int, *, every: float, at: float = 0.0,
            src: Endpoint = GUESSER, user: str = "1001", final: int = 403) -> list[Subject]:
    """``count`` REGISTERs for ``user``, each with a Call-ID of its own, challenged 401 and
    sent again with credentials (a guessed password) refused ``final``."""
    return [attempt(capture, at=at + every * n, src=src, user=user, answers=(401, final),
                    credentials=digest(user)) for n in range(count)]


def test_ten_refused_passwords_within_a_minute_are_guessing() -> None:
    capture = Capture()
    subjects = guesses(capture, 10, every=6.0)  # 0 to 54 s
    [guessing] = values("S103", subjects)
    assert {k: guessing[k] for k in ("source", "user", "realm", "server", "count", "statuses",
                                     "span")} == {
        "source": GUESSER.ip, "user": "1001", "realm": REALM, "server": SERVER.ip,
        "count": "10", "statuses": "403 x10", "span": "54.000"}
    assert values("S103", subjects[:9]) == []


def test_a_phone_retrying_an_old_password_is_no_guessing() -> None:
    """Ten refusals over ten minutes, one a minute (and a bit): never ten in a minute."""
    capture = Capture()
    assert values("S103", guesses(capture, 10, every=61.0, src=PHONE, final=401)) == []
    capture = Capture()
    assert values("S103", guesses(capture, 10, every=60.0, src=PHONE, final=401),
                  count=2) != []  # two a minute apart are in one window


def test_passwords_guessed_within_one_call_id_are_guessing() -> None:
    """A REGISTER challenged 401, then ten retries with credentials within a second in the same
    Call-ID, each refused with a new 401 (no ``stale``): ten guesses, since a UAC MUST NOT
    re-attempt credentials just rejected (RFC 3261 22.1)."""
    capture = Capture()
    one_call = attempt(capture, at=0.0, src=GUESSER, user="1001", answers=(401,) * 11,
                       credentials=digest("1001"))
    [guessing] = values("S103", [one_call])
    assert (guessing["user"], guessing["count"]) == ("1001", "10")


def test_guessing_is_counted_per_source_and_account() -> None:
    capture = Capture()
    half = [*guesses(capture, 5, every=2.0), *guesses(capture, 5, every=2.0, at=1.0,
                                                      user="1002")]
    assert values("S103", half) == []
    capture = Capture()
    two_sources = [*guesses(capture, 5, every=2.0),
                   *guesses(capture, 5, every=2.0, at=1.0, src=SCANNER)]
    assert values("S103", two_sources) == []


# -- S104: credential stuffing ----------------------------------------------------------------


def stuffing(capture: Capture, accounts: int, *, at: float = 0.0, every: float = 30.0
             ) -> list[Subject]:
    return [guesses(capture, 1, every=0.0, at=at + every * n, user=f"{3000 + n}")[0]
            for n in range(accounts)]


def test_five_accounts_refused_within_ten_minutes_are_credential_stuffing() -> None:
    capture = Capture()
    subjects = stuffing(capture, 5, every=140.0)  # 0 to 560 s
    [stuffed] = values("S104", subjects)
    assert {k: stuffed[k] for k in ("source", "users", "examples", "server", "count")} == {
        "source": GUESSER.ip, "users": "5", "examples": "3000, 3001, 3002, 3003, 3004",
        "server": SERVER.ip, "count": "5"}
    assert values("S104", subjects[:4]) == []
    assert values("S104", stuffing(Capture(), 5, every=151.0)) == []  # 604 s


def test_accounts_mostly_accepted_are_no_credential_stuffing() -> None:
    """Five accounts refused and two accepted: 71 % of the source's credentials refused."""
    capture = Capture()
    subjects = [*(attempt(capture, at=float(n), src=GUESSER, user=f"{4000 + n}",
                          answers=(401, 200), credentials=digest(f"{4000 + n}"))
                  for n in range(2)), *stuffing(capture, 5, at=10.0)]
    assert values("S104", subjects) == []
    assert len(values("S104", subjects, refused_percent=70.0)) == 1


# -- S105: success after failures -------------------------------------------------------------


def success(capture: Capture, at: float, src: Endpoint = GUESSER, user: str = "1001"
            ) -> Subject:
    return attempt(capture, at=at, src=src, user=user, answers=(401, 200),
                   credentials=digest(user))


def test_an_account_accepted_after_five_refusals_was_taken() -> None:
    """Five refusals from two guessers, then one of them gets in: taken. The owner's phone,
    accepted from an address that failed nothing, is the owner (the guessers failed)."""
    capture = Capture()
    failures = [*guesses(capture, 3, every=60.0), *guesses(capture, 2, every=60.0, at=180.0,
                                                           src=SCANNER)]
    assert values("S105", [*failures, success(capture, 400.0, src=PHONE)]) == []
    accepted = success(capture, 400.0, src=SCANNER)
    [taken] = values("S105", [*failures, accepted])
    assert {k: taken[k] for k in ("source", "user", "failures", "failed_sources", "method",
                                  "success_frame", "count")} == {
        "source": SCANNER.ip, "user": "1001", "failures": "5",
        "failed_sources": f"{GUESSER.ip}, {SCANNER.ip}", "method": "REGISTER",
        "success_frame": str(accepted.messages[0].frame), "count": "6"}
    assert taken["first_frame"] == str(failures[0].messages[0].frame)


def test_four_refusals_or_refusals_older_than_the_window_are_no_takeover() -> None:
    capture = Capture()
    assert values("S105", [*guesses(capture, 4, every=1.0), success(capture, 10.0)]) == []
    capture = Capture()
    # the first refusal 3600.001 s before the success: out of the hour
    old = [*guesses(capture, 5, every=1.0), success(capture, 3600.001)]
    assert values("S105", old) == []
    capture = Capture()
    assert len(values("S105", [*guesses(capture, 5, every=1.0), success(capture, 3600.0)])) == 1


def test_a_success_clears_the_refusals_before_it() -> None:
    """Three refusals, a success, three refusals, a success: six refusals in the hour, but
    never five since the account was last accepted."""
    capture = Capture()
    subjects = [*guesses(capture, 3, every=1.0), success(capture, 5.0),
                *guesses(capture, 3, every=1.0, at=10.0), success(capture, 15.0)]
    assert values("S105", subjects) == []
    assert len(values("S105", subjects, failures=3)) == 2


def test_refusals_of_another_account_or_without_credentials_do_not_count() -> None:
    capture = Capture()
    others = [*guesses(capture, 5, every=1.0, user="1002"), success(capture, 10.0)]
    assert values("S105", others) == []
    capture = Capture()
    # five REGISTERs challenged and never retried: no credentials refused
    unanswered = [attempt(capture, at=float(n), src=GUESSER, user="1001", answers=(401,))
                  for n in range(5)]
    assert values("S105", [*unanswered, success(capture, 10.0)]) == []


def test_probes_that_name_no_user_are_no_user_of_an_enumeration() -> None:
    """Nine users refused, and an OPTIONS to the server itself (no user): nine users."""
    capture = Capture()
    subjects = probes(capture, 9, every=1.0)
    subjects.append(host_probe(capture, at=9.5, src=SCANNER))
    assert values("S102", subjects, users=9)[0]["users"] == "9"
    assert values("S102", subjects) == []
