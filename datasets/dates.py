"""Human-readable dates -> ISO 8601, generated offline from a seed.

"3 May 1979", "Tuesday, 10 July 2001", "09/05/88", "march 3rd 1979",
"3 de mayo de 1979", "3. Mai 1979", ... -> "1979-05-03". Numeric forms are
day first (dd/mm/yy, dd.mm.yyyy), so that no string has two readings;
two-digit years mean 1950-2049.
"""

import datetime
import random

MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"],
}
WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
    "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
}
FIRST = datetime.date(1950, 1, 1).toordinal()
LAST = datetime.date(2049, 12, 31).toordinal()


def ordinal(day):
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _formats(date):
    d, m, y = date.day, date.month, date.year
    en, es, fr, de = (MONTHS[k][m - 1] for k in ("en", "es", "fr", "de"))
    wd = {k: WEEKDAYS[k][date.weekday()] for k in WEEKDAYS}
    return [
        f"{d} {en} {y}", f"{wd['en']}, {d} {en} {y}", f"{en} {d}, {y}", f"{en.lower()} {ordinal(d)} {y}",
        f"{ordinal(d)} of {en} {y}", f"{d} {en[:3]} {y}", f"{en[:3].upper()} {d:02d} {y}",
        f"{wd['en'][:3]} {d} {en[:3]} {y % 100:02d}",
        f"{d:02d}/{m:02d}/{y % 100:02d}", f"{d}/{m}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d}-{m}-{y}",
        f"{d} de {es} de {y}", f"{wd['es']}, {d} de {es} de {y}", f"{d} {fr} {y}", f"{wd['fr']} {d} {fr} {y}",
        f"{d}. {de} {y}", f"{wd['de']}, {d}. {de} {y}", f"{d:02d} {en.lower()} {y % 100:02d}",
    ]


def date_pairs(n, seed, exclude=()):
    """n distinct (human, iso) pairs; none of whose human side is in `exclude`."""
    rng = random.Random(seed)
    seen = set(exclude)
    pairs = []
    while len(pairs) < n:
        date = datetime.date.fromordinal(rng.randint(FIRST, LAST))
        human = rng.choice(_formats(date))
        if rng.random() < 0.3:
            human = human.lower()
        if human in seen:
            continue
        seen.add(human)
        pairs.append((human, date.isoformat()))
    return pairs
