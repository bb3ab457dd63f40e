#!/usr/bin/env python3
"""Write keys_vectors.json: how the real edx-opaque-keys and edx-ccx-keys read many strings.

For every input string and every key type that openedx_opaque_keys reproduces, the file
records whether upstream's `from_string` accepts it and, if so, the canonical string
(`str(key)`) and the key's parts. The parts are those of the key re-read from its canonical
string, because the Rust port keeps a key as its canonical string describes it (upstream
keeps some parts in memory that it never prints). Inputs are hand-picked edge cases plus
seeded random perturbations of valid keys, so the file is the same on every run.

Set-up (any recent CPython; the committed file used 3.11):

    python3 -m venv /tmp/okvenv
    /tmp/okvenv/bin/pip install edx-opaque-keys==4.0.0 edx-ccx-keys==2.0.2
    /tmp/okvenv/bin/python gen_keys_vectors.py > keys_vectors.json

For a much larger throw-away corpus, raise the counts and point the Rust test at it:

    /tmp/okvenv/bin/python gen_keys_vectors.py --per-seed 3000 --random 30000 > /tmp/big.json
    OPENEDX_KEYS_VECTORS=/tmp/big.json cargo test -p openedx-opaque-keys --features serde --test keys vectors
"""
import argparse
import json
import random
import sys
import warnings
from importlib.metadata import version

from ccx_keys.locator import CCXBlockUsageLocator, CCXLocator
from opaque_keys import InvalidKeyError
from opaque_keys.edx.asides import AsideUsageKeyV1, AsideUsageKeyV2
from opaque_keys.edx.keys import CourseKey, UsageKey
from opaque_keys.edx.locations import DeprecatedLocation
from opaque_keys.edx.locator import (
    BlockUsageLocator,
    CourseLocator,
    LibraryCollectionLocator,
    LibraryContainerLocator,
    LibraryLocator,
    LibraryLocatorV2,
    LibraryUsageLocator,
    LibraryUsageLocatorV2,
)

warnings.simplefilter("ignore")

# Rust type name -> the Python class whose from_string it mirrors.
KEY_TYPES = {
    "CourseKey": CourseKey,
    "UsageKey": UsageKey,
    "CcxLocator": CCXLocator,
    "LibraryLocatorV2": LibraryLocatorV2,
    "LibraryUsageLocatorV2": LibraryUsageLocatorV2,
    "LibraryCollectionLocator": LibraryCollectionLocator,
    "LibraryContainerLocator": LibraryContainerLocator,
}

V = "519665f6223ebd6980884f2b"

VALID = [
    "course-v1:edX+DemoX+Demo_Course",
    "course-v1:edX+DemoX+Demo_Course+branch@draft",
    f"course-v1:edX+DemoX+Demo_Course+version@{V}",
    f"course-v1:edX+DemoX+Demo_Course+branch@published+version@{V}",
    f"course-v1:version@{V}",
    "course-v1:mit.eecs+6.002x+2014_T2",
    "course-v1:a:b+c~d+e-f.g",
    "course-v1:Ünï+cöde+ru٣n",
    "course-v1:中文+课程+2024",
    "slashes:edX+DemoX+Demo_Course",
    "edX/DemoX/Demo_Course",
    "edX/DemoX/",
    "e.d%X-/Dem_oX/r%20un",
    "library-v1:UniX+PhysicsProbs",
    "library-v1:UniX+PhysicsProbs+branch@library",
    f"library-v1:UniX+PhysicsProbs+version@{V}",
    f"library-v1:version@{V}",
    "ccx-v1:edX+DemoX+Demo_Course+ccx@1",
    f"ccx-v1:edX+DemoX+Demo_Course+branch@draft+version@{V}+ccx@42",
    f"ccx-v1:version@{V}+ccx@7",
    "ccx-v1:edX+DemoX+Demo_Course+ccx@٣٤",
    "block-v1:edX+DemoX+Demo_Course+type@problem+block@75f9562c77bc4858b61f907bb810d974",
    f"block-v1:edX+DemoX+Demo_Course+branch@draft+version@{V}+type@html+block@intro",
    f"block-v1:version@{V}+type@html+block@x",
    "block-v1:edX+DemoX+Demo_Course+type@vertical+block@a:b~c.d-e_f",
    "i4x://edX/DemoX/problem/abc",
    "i4x://edX/DemoX/problem/abc@draft",
    "i4x://e.d%X-/DemoX/some category/na:m~e%",
    "location:edX+DemoX+Demo_Course+problem+abc",
    "ccx-block-v1:edX+DemoX+Demo_Course+ccx@1+type@problem+block@abc",
    f"ccx-block-v1:edX+DemoX+Demo_Course+branch@b+version@{V}+ccx@12+type@html+block@x:y",
    "lib-block-v1:UniX+PhysicsProbs+type@problem+block@p1",
    f"lib-block-v1:UniX+PhysicsProbs+branch@b+version@{V}+type@problem+block@p1",
    "lb:MITx:reallyhardproblems:problem:problem1",
    "lb:MITx:réallyhard:html:ïd.1-2_3",
    "lib:MITx:reallyhardproblems",
    "lib:a.b-c_d:ünïcode-slug",
    "lib-collection:MITx:reallyhardproblems:my-collection",
    "lib-collection:MITx:physics:cöllection.1",
    "lct:MITx:reallyhardproblems:unit:unit-1",
    "lct:MITx:physics:section:séction_1",
    "aside-usage-v2:block-v1$:edX+DemoX+Demo_Course+type@problem+block@abc::tagging_aside",
    "aside-usage-v1:block-v1:edX+DemoX+Demo_Course+type@problem+block@abc::tagging_aside",
    "aside-usage-v2:lb$:a$:b$:problem$:p1::x$:y$$z",
    "aside-usage-v1:i4x://edX/DemoX/problem/abc::a$::b$$",
    "aside-usage-v2:aside-usage-v2$$$:block-v1$$$:a+b+c+type@t+block@x$:$:inner::outer",
]

EDGE = [
    "", ":", "::", "course-v1", "course-v1:", "course-v1:a", "course-v1:a+b", "course-v1:a+b+c+",
    "course-v1:+a+b+c", "course-v1:a++b+c", "course-v1:a+b+c+d", "course-v1:a+b+c\n", "course-v1:a+b+c+branch@",
    "course-v1:a+b+c+Branch@x", f"course-v1:a+b+version@{V}", f"course-v1:branch@x+version@{V}",
    f"course-v1:a+b+c+version@{V.upper()}", f"course-v1:a+b+c+version@{V[:-1]}", f"course-v1:a+b+c+version@{V}0",
    "course-v1:a+b+c+type@x+block@y", "course-v1:a+b+c+block@x%", "course-v1:a+b+c+ccx@1", "course-v1:a%+b+c",
    "course-v1:a b+c+d", "course-v1:a@b+c+d", "course-v1:a+b+c+block@x+type@y", "course-v1:a+b+c+branch@x+branch@y",
    "course-v1:a\u093e+b+c", "course-v1:\u24b6+b+c", "course-v1:a\u0345+b+c", "course-v1:ǅʰ²Ⅻ+b+c", "course-v1:😀+b+c",
    "a/b/c", "a/b/", "a//c", "/b/c", "a/b", "a/b/c/d", "a/b/c\n", "a~/b/c", "a/b/c:", "a/b/c~", "é/b/c", "a b/c/d",
    "lib:a:b", "lib:a:b\n", "lib:a\n:b", "lib:a:b\n\n", "lib:é:b", "lib:a:b:c", "lib:a:", "lib::b", "lib:a b:c",
    "library-v1:a+b+c", "library-v1:a", f"library-v1:branch@x+version@{V}", "library-v1:a+b+type@t+block@x",
    "ccx-v1:a+b+c", "ccx-v1:a+b+c+ccx@", "ccx-v1:a+b+c+ccx@01", "ccx-v1:a+b+c+CCX@1", "ccx-v1:a+b+c+ccx@1x",
    "ccx-v1:a+b+ccx@1", f"ccx-v1:a+b+c+VERSION@{V.upper()}+ccx@1", f"ccx-v1:a+b+c+ver\u017fion@{V}+ccx@1",
    f"ccx-v1:a+b+c+vers\u0130on@{V}+ccx@1", f"ccx-v1:a+b+c+vers\u0131on@{V}+ccx@1", "ccx-v1:a+b+c+ccx@1+type@x",
    "ccx-v1:a+b+c+ccx@1+block@x%", "ccx-v1:a+b+c+ccx@²", "ccx-v1:a+b+c+ccx@1\n", "ccx-v1:a+b+c+ccx@1+ccx@2",
    "block-v1:a+b+c+block@x", "block-v1:a+b+c+type@t", "block-v1:a+b+c+type@t+block@x%", "block-v1:a+b+c+type@t+block@",
    f"block-v1:a+b+version@{V}+type@t+block@x", "block-v1:a+b+c+type@t+block@x:", "block-v1:a+b+c+type@None+block@x",
    "block-v1:a+b+type@t+block@x", "block-v1:type@t+block@x",
    "i4x://a/b/c/d", "i4x://a/b/c/d@e", "i4x://a/b/c/d@", "i4x://a/b/c/d@e@f", "i4x://a/b/c/d/e", "i4x://a/b/c/",
    "i4x://a/b//d", "i4x:///b/c/d", "i4x://a/b/c c/d", "i4x://a/b/c\nc/d", "i4x://a/b/c@x/d", "i4x://a/b/c/d\n",
    "i4x://a/b/c/d@e\n", "i4x://a~/b/c/d", "i4x://a:x/b/c/d", "i4x://a/b/c/d:e~%", "i4x://a/b/c/d@e~:%",
    "i4x://a/b/c", "i4x:/a/b/c/d", "I4X://a/b/c/d", "i4x://a/b/c/@e",
    "location:a+b+c+t+x", "location:a+b+c+t", "location:a+b+c+t+x+y", "location:a+b+c+t+x%", "location:a+b+c+t+x:",
    "ccx-block-v1:a+b+c+ccx@1+block@x", "ccx-block-v1:a+b+c+CCX@1+TYPE@t+Block@x",
    "ccx-block-v1:a+b+c+ccx@1+type@x+bloc\u212a@y", "ccx-block-v1:a+b+c+ccx@1+type@x+block@y%",
    "ccx-block-v1:a+b+c+ccx@1+type@x", "ccx-block-v1:a+b+c+type@x+block@y",
    "lib-block-v1:a+b+block@x", "lib-block-v1:a+b+type@t", "lib-block-v1:a+b+c+type@t+block@x",
    f"lib-block-v1:version@{V}+type@t+block@x", "lib-block-v1:a+b+type@t+block@x%",
    "lb:a:b:c:d", "lb:a:b:c:d\n", "lb:a:b:c\n:d", "lb:a:b:cé:d", "lb:a:b:c:dé", "lb:a:b:c:d:e", "lb:a:b:c",
    "lb:a:b:c:", "lb:a:b:c:d e",
    "lib-collection:a:b:c", "lib-collection:a:b", "lib-collection:a:b:c:d", "lib-collection:a:b:c\n",
    "lib-collection:a:b:c é",
    "lct:a:b:unit:c", "lct:a:b:unit", "lct:a:b:unité:c", "lct:a:b:unit\n:c\n", "lct:a:b:unit:c:d",
    "aside-usage-v1:block-v1:a+b+c+type@t+block@x", "aside-usage-v2:block-v1:a+b+c+type@t+block@x",
    "aside-usage-v2:block-v1$:a+b+c+type@t+block@x$:::x", "aside-usage-v1:block-v1:a+b+c+type@t+block@x:::x",
    "aside-usage-v1:block-v1:a+b+c+type@t+block@x::a::b", "aside-usage-v2:block-v1$:a+b+c+type@t+block@x::a$",
    "aside-usage-v2:block-v1$:a+b+c+block@x::", "aside-usage-v1:block-v1:a+b+c+block@x::", "aside-usage-v2:::",
    "aside-usage-v2:i4x$://a/b/c/d::z", f"aside-usage-v1:block-v1:version@{V}+type@t+block@x:",
    "aside-usage-v2:block-v1$$:a+b+c+type@t+block@x::z", "aside-usage-v2:block-v1$$$:a+b+c+type@t+block@x::z",
    "aside-usage-v1:aside-usage-v1:block-v1:a+b+c+type@t+block@x::y::z", "aside-usage-v2:",
    "aside-usage-v2:block-v1$:a+b+c+type@t+block@x::\n", "aside-usage-v1:i4x://a/b/c/d",
    "unknown:a+b+c", "course-v2:a+b+c", "COURSE-V1:a+b+c", " course-v1:a+b+c",
]

# Characters worth inserting: separators, escapes, and Unicode that Python's \w treats
# differently from Rust's char::is_alphanumeric.
ALPHABET = list(":+@/$%~.-_ \n\tAaZz09") + [
    "é", "٣", "²", "Ⅻ", "ǅ", "中", "\u093e", "\u0345", "Ⓐ", "\u00a0", "😀", "\u0130", "\u0131", "\u017f", "\u212a",
]


def perturb(rng, s):
    """One random edit of `s`."""
    op = rng.randrange(5)
    i = rng.randrange(len(s) + 1)
    if op == 0 and s:
        return s[:min(i, len(s) - 1)] + s[min(i, len(s) - 1) + 1:]
    if op == 1:
        return s[:i] + rng.choice(ALPHABET) + s[i:]
    if op == 2 and s:
        j = min(i, len(s) - 1)
        return s[:j] + rng.choice(ALPHABET) + s[j + 1:]
    if op == 3 and s:
        j = rng.randrange(len(s) + 1)
        lo, hi = min(i, j), max(i, j)
        return s[:hi] + s[lo:hi] + s[hi:]
    return s[:i] + s[i:].upper() if rng.random() < 0.5 else s[:i]


def inputs(per_seed, random_count):
    rng = random.Random(20240917)
    seen = []
    seen_set = set()

    def add(s):
        if s not in seen_set:
            seen_set.add(s)
            seen.append(s)

    for s in VALID + EDGE:
        add(s)
    for s in VALID:
        for _ in range(per_seed):
            t = s
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                t = perturb(rng, t)
            add(t)
    tokens = ["course-v1:", "block-v1:", "ccx-v1:", "lb:", "lib:", "a", "b", "+", ":", "/", "@", "type@", "block@",
              "branch@", "ccx@1", f"version@{V}", "$", "::", "i4x://", "\n", "é"]
    for _ in range(random_count):
        add("".join(rng.choice(tokens) for _ in range(rng.randrange(1, 8))))
    return seen


def describe(key):
    """The parts of a key, in the shape the Rust test builds from its own keys."""
    if isinstance(key, CCXLocator):
        return {**describe_course(key), "type": "CcxLocator", "ccx": key.ccx}
    if isinstance(key, CourseLocator):
        return describe_course(key)
    if isinstance(key, LibraryLocator):
        return {
            "type": "LibraryLocator", "org": key.org, "library": key.library, "branch": key.branch,
            "version_guid": None if key.version_guid is None else str(key.version_guid),
        }
    if isinstance(key, CCXBlockUsageLocator):
        return {"type": "CcxBlockUsageLocator", "course_key": describe(key.course_key),
                "block_type": key.block_type, "block_id": key.block_id}
    if isinstance(key, LibraryUsageLocator):
        return {"type": "LibraryUsageLocator", "library_key": describe(key.library_key),
                "block_type": key.block_type, "block_id": key.block_id}
    if isinstance(key, BlockUsageLocator):
        if isinstance(key, DeprecatedLocation):
            syntax = "Location"
        else:
            syntax = "I4x" if key.deprecated else "BlockV1"
        return {"type": "BlockUsageLocator", "syntax": syntax, "course_key": describe(key.course_key),
                "block_type": key.block_type, "block_id": key.block_id}
    if isinstance(key, LibraryUsageLocatorV2):
        return {"type": "LibraryUsageLocatorV2", "lib_key": describe(key.lib_key),
                "block_type": key.block_type, "usage_id": key.usage_id}
    if isinstance(key, LibraryLocatorV2):
        return {"type": "LibraryLocatorV2", "org": key.org, "slug": key.slug}
    if isinstance(key, LibraryCollectionLocator):
        return {"type": "LibraryCollectionLocator", "lib_key": describe(key.lib_key),
                "collection_id": key.collection_id}
    if isinstance(key, LibraryContainerLocator):
        return {"type": "LibraryContainerLocator", "lib_key": describe(key.lib_key),
                "container_type": key.container_type, "container_id": key.container_id}
    if isinstance(key, (AsideUsageKeyV1, AsideUsageKeyV2)):
        return {"type": "AsideUsageKey", "version": "V1" if isinstance(key, AsideUsageKeyV1) else "V2",
                "usage_key": describe(key.usage_key), "aside_type": key.aside_type}
    raise TypeError(f"no description for {type(key).__name__}")


def describe_course(key):
    return {
        "type": "CourseLocator", "org": key.org, "course": key.course, "run": key.run, "branch": key.branch,
        "version_guid": None if key.version_guid is None else str(key.version_guid), "deprecated": key.deprecated,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-seed", type=int, default=14, help="random edits of each valid key")
    parser.add_argument("--random", type=int, default=150, help="strings made of random key fragments")
    args = parser.parse_args()
    cases = []
    for s in inputs(args.per_seed, args.random):
        accepted = {}
        crashed = {}
        for name, cls in KEY_TYPES.items():
            try:
                key = cls.from_string(s)
            except InvalidKeyError:
                continue
            except Exception as error:  # pylint: disable=broad-except
                # Upstream fails with another exception: the Rust port must reject.
                crashed[name] = type(error).__name__
                continue
            canonical = str(key)
            reread = cls.from_string(canonical)
            if str(reread) != canonical:
                raise AssertionError(f"{s!r}: {canonical!r} is not stable")
            accepted[name] = {"canonical": canonical, "parts": describe(reread)}
        case = {"input": s, "accepted": accepted}
        if crashed:
            case["upstream_other_error"] = crashed
        cases.append(case)
    document = {
        "generator": "tests/data/gen_keys_vectors.py",
        "python": sys.version.split()[0],
        "edx-opaque-keys": version("edx-opaque-keys"),
        "edx-ccx-keys": version("edx-ccx-keys"),
        "key_types": list(KEY_TYPES),
        "cases": cases,
    }
    # One case per line keeps the file small and its diffs readable.
    head = json.dumps({k: v for k, v in document.items() if k != "cases"}, ensure_ascii=True)
    sys.stdout.write(head[:-1] + ', "cases": [\n')
    sys.stdout.write(",\n".join(json.dumps(case, ensure_ascii=True) for case in cases))
    sys.stdout.write("\n]}\n")


if __name__ == "__main__":
    main()
