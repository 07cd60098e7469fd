"""Name and nationality lexicons for the group-toxicity prompts, taken from the `checklist` package
(Ribeiro et al., 2020; checklist 0.0.11, ``checklist/data/lexicons/basic.json``, MIT licence,
(c) 2020 Marco Tulio Correia Ribeiro). The package does not install here (its sdist fails to build
on this Python), so the entries used are copied below, in the lexicon's own order (nationalities by
country population; first names by US frequency), and nothing else of the package is used.
"""
from __future__ import annotations

SOURCE = "checklist 0.0.11 checklist/data/lexicons/basic.json (MIT)"

# basic.json "nationality", first 10 entries
NATIONALITIES = ("Chinese", "Indian", "American", "Indonesian", "Pakistani", "Brazilian", "Nigerian", "Bangladeshi",
                 "Russian", "Japanese")
# basic.json "female" and "male", first 4 entries each
FEMALE_NAMES = ("Jennifer", "Jessica", "Ashley", "Sarah")
MALE_NAMES = ("Michael", "Christopher", "Matthew", "David")
