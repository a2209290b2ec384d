"""What the generated project's build and CI pin: the Gradle the wrapper fetches, the GitHub Actions its workflow
runs (each by a 40-hex commit, never a movable tag), and the lite-tools its parity gate installs.

The SHAs and the Gradle checksum were read from public files found with a code search (SOURCE below); nothing
here checks that those commits exist or that the checksum is Gradle's: verify before relying on them."""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from ..errors import BadInput


class Action(NamedTuple):
    name: str
    tag: str
    sha: str
    source: str


# source: where the tag -> SHA pairing was read (a code search over public GitHub files; each file pins the SHA with
# the tag in a comment). The commit pages to verify them: https://github.com/OWNER/REPO/commit/SHA.
ACTIONS = {a.name: a for a in (
    Action("actions/checkout", "v4.2.2", "11bd71901bbe5b1630ceea73d27597364c9af683",
           "code search: 10 of 10 workflow/doc files with this SHA label it v4.2.2"),
    Action("actions/setup-python", "v5.6.0", "a26af69be951a213d495a4c3e4e4022e16d87065",
           "code search: workflow files label it v5.6.0 (others just v5)"),
    Action("actions/setup-java", "v4.7.1", "c5195efecf7bdfc987ee8bae7a71cb8b11521c00",
           "code search: 10 of 10 workflow files with this SHA label it v4.7.1"),
    Action("gradle/actions/setup-gradle", "v4.0.0", "af1da67850ed9a4cedd57bfd976089dd991e2582",
           "code search: 8 workflow files label it v4.0.0 (one composite action labels it v4.3.1: doubtful)"),
    Action("actions/upload-artifact", "v4.6.2", "ea165f8d65b6e75b540449e92b4886f43607fa02",
           "code search: workflow files label it v4.6.2 (one labels it v4.6.0: doubtful)"),
)}

# AGP 7.4 needs Gradle 7.5+. The checksum of gradle-7.6.4-bin.zip as Gradle's official Docker image build
# (GRADLE_DOWNLOAD_SHA256) and an independent checksum table record it; not checked against gradle.org here.
GRADLE_VERSION = "7.6.4"
GRADLE_SHA256 = "bed1da33cca0f557ab13691c77f38bb67388119e4794d113e051039b80af9bb1"

# The lite-tools the workflow installs: a git URL pinned to a commit, or a wheel. Unset, the workflow fails at once
# with a message (a bare name on PyPI is someone else's package, and a branch or tag can move).
CI_INSTALL_ENV = "LITE_TOOLS_CI_INSTALL"
CI_INSTALL_UNSET = "UNSET"
PINNED_GIT = re.compile(r"^([A-Za-z0-9._-]+ @ )?git\+https://[^\s@]+@[0-9a-f]{40}(#[A-Za-z0-9=&._-]*)?$")
WHEEL = re.compile(r"^[^\s]+\.whl(#sha256=[0-9a-f]{64})?$")
UNSAFE = set("\"'\\$`")  # the value is written inside a double-quoted YAML string and expanded by bash


def check_ci_install(spec: str) -> str:
    if not UNSAFE & set(spec) and (spec == CI_INSTALL_UNSET or PINNED_GIT.match(spec) or WHEEL.match(spec)):
        return spec
    raise BadInput(f"{CI_INSTALL_ENV}={spec!r}: give a git URL pinned to a commit "
                   f"(git+https://github.com/OWNER/lite-tools@<40-hex sha>) or a wheel (path or URL ending .whl)")


def context(ci_install=None) -> dict:
    """Template values for the wrapper and the workflow; ci_install defaults to $LITE_TOOLS_CI_INSTALL."""
    spec = ci_install if ci_install is not None else os.environ.get(CI_INSTALL_ENV, "").strip() or CI_INSTALL_UNSET
    return {"ci_install_env": CI_INSTALL_ENV, "ci": {"install": check_ci_install(spec), "unset": CI_INSTALL_UNSET,
                   "actions": {a.name: f"{a.name}@{a.sha} # {a.tag}" for a in ACTIONS.values()},
                   "gradle_version": GRADLE_VERSION, "gradle_sha256": GRADLE_SHA256}}
