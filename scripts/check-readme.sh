#!/usr/bin/env bash
# Compiles and runs every ```swift snippet of README.md against this checkout,
# so the README's library examples cannot rot. scripts/test.sh calls it.
#
# The snippets become one tiny package next to a symlink named Tributary to
# this repository (so `package: "Tributary"` resolves as it does for users):
#   - the manifest fragment (`.package(url: "<this repository>", …)` and its
#     `.target(…)`) goes into Package.swift, the URL replaced by the path;
#   - every other snippet, in README order, into one executable. `run()`
#     lines are commented out: they need the servers and run until cancelled.
#     What is checked is that the code compiles and that every object the
#     snippets construct is built without throwing.
# It is a script, not an XCTest: it builds the package a second time
# (scratch path under /tmp, kept between runs), which takes minutes on a
# small machine the first time.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${TRIBUTARY_README_CHECK_DIR:-/tmp/tributary-readme-$(printf %s "$REPO" | cksum | cut -d' ' -f1)}
PKG=$WORK/pkg
rm -rf "$PKG"
mkdir -p "$PKG/Sources/Archiver" "$PKG/Sources/Snippets" "$WORK/blocks"
rm -f "$WORK"/blocks/*
ln -sfn "$REPO" "$WORK/Tributary"

# Each ```swift block into blocks/NNN.swift.
awk -v dir="$WORK/blocks" '
  /^```swift[[:space:]]*$/ { n++; file = sprintf("%s/%03d.swift", dir, n); inside = 1; next }
  /^```/ && inside { inside = 0; close(file); next }
  inside { print > file }
' "$REPO/README.md"

shopt -s nullglob
blocks=("$WORK"/blocks/*.swift)
((${#blocks[@]})) || { echo "check-readme: no swift snippets found in README.md" >&2; exit 1; }

dependencies=""
targets=""
main=$PKG/Sources/Snippets/main.swift
body=$WORK/body.swift
: > "$body"
for block in "${blocks[@]}"; do
  if grep -q '^[[:space:]]*\.package(' "$block"; then
    grep -q 'url: "<this repository>", branch: "main"' "$block" || {
      echo "check-readme: $(basename "$block"): the manifest snippet no longer has the expected .package(url:) form" >&2
      exit 1
    }
    dependencies+=$(grep '^[[:space:]]*\.package(' "$block" | sed "s|url: \"<this repository>\", branch: \"main\"|path: \"$WORK/Tributary\"|")$'\n'
    targets+=$(grep -v '^[[:space:]]*\.package(' "$block")$'\n'
  else
    {
      echo "    // README.md snippet $(basename "$block" .swift)"
      grep -v '^import ' "$block" | sed -E 's|^([[:space:]]*try await [A-Za-z_]+\.run\(\).*)$|// \1|; s|^|    |'
    } >> "$body"
  fi
done
[[ -n $dependencies ]] || { echo "check-readme: README.md has no manifest snippet" >&2; exit 1; }
# Imports first, the snippets' code in one do-block: a snippet that throws
# is reported as such (exit 1), not as a crash.
{
  echo "import Foundation"
  cat "${blocks[@]}" | grep '^import ' | sort -u
  echo "do {"
  cat "$body"
  echo '    print("check-readme: every README snippet compiled and constructed its objects")'
  echo "} catch {"
  echo '    FileHandle.standardError.write(Data("check-readme: a README snippet threw: \(error)\n".utf8))'
  echo "    exit(1)"
  echo "}"
} > "$main"

cat > "$PKG/Package.swift" <<MANIFEST
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ReadmeSnippets",
    platforms: [.macOS(.v14)],
    dependencies: [
$dependencies
    ],
    targets: [
$targets
        .executableTarget(name: "Snippets", dependencies: [
            .product(name: "PipelineCore", package: "Tributary"), .product(name: "S3Sink", package: "Tributary"),
            .product(name: "MySQLSink", package: "Tributary"), .product(name: "PostgresSource", package: "Tributary"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
MANIFEST
cat > "$PKG/Sources/Archiver/Archiver.swift" <<'SWIFT'
import S3Sink

/// The README's example target: it only has to build against S3Sink.
public enum Archiver {
    public static let configType = S3SinkConfig.self
}
SWIFT
# The same dependency versions as this checkout, when it has resolved them.
[[ -f $REPO/Package.resolved ]] && cp "$REPO/Package.resolved" "$PKG/Package.resolved"

# Warnings off: README snippets leave their objects unused, on purpose.
swift build --package-path "$PKG" --scratch-path "$WORK/build" --product Snippets -Xswiftc -suppress-warnings
# The snippets read a password through ${env:MYSQL_PASSWORD} and S3
# credentials from the environment; no server is contacted.
MYSQL_PASSWORD=${MYSQL_PASSWORD:-readme-check} \
  AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-readme-check} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-readme-check} \
  timeout 120 "$WORK/build/debug/Snippets"
