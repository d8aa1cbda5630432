"""Prints README.md's quick-start and first-steps shell blocks as one script, for tests/readme/run.sh.

Every ```sh block from "## Quick start" up to "## Access model" is kept verbatim, in order, except two
kinds of line: `cargo run --release` becomes `start_server` (the harness starts the built binary in a
fresh directory, in the background) and `cargo test` lines are left to CI's own test stage.
"""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("## Quick start")
end = text.index("## Access model")
blocks = re.findall(r"^```sh\n(.*?)^```", text[start:end], flags=re.S | re.M)
if len(blocks) < 5:
    sys.exit(f"expected the README's shell blocks, found {len(blocks)}")
out = []
for n, block in enumerate(blocks, 1):
    out.append(f"echo '== README block {n}' >&2")
    for line in block.splitlines():
        if re.match(r"^cargo run --release(\s|$)", line):
            out.append("start_server")
        elif re.search(r"(^|\s)cargo test(\s|$)", line):
            out.append(f": left to CI's test stage: {line!r}")
        else:
            out.append(line)
print("\n".join(out))
