import Foundation
package import Yams

/// A YAML file read into nodes that remember where they stand, so every check can say
/// `file:line:column`. Shared by the camera inventory and (later) the layout files.
package struct YAMLDocument {
    package let file: String
    package let root: Node?

    /// The largest configuration file read: a site of thousands of cameras takes well under
    /// a megabyte; past this the file is refused before it is read (time and memory stay bounded).
    package static let maximumBytes = 4 << 20

    /// Reads a configuration file, refusing one over `maximumBytes` or unreadable with a
    /// diagnostic at its first line.
    package static func read(path: String) throws(ConfigurationError) -> String {
        let place = SourceLocation(file: path, line: 1, column: 1)
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ConfigurationError([Diagnostic(.error, place, "cannot read the file: \(String(cString: strerror(errno)))")])
        }
        if (status.st_mode & S_IFMT) != S_IFREG {
            throw ConfigurationError([Diagnostic(.error, place, "cannot read the file: not a regular file")])
        }
        if status.st_size > maximumBytes {
            throw ConfigurationError([
                Diagnostic(.error, place, "the file is \(status.st_size) bytes; a configuration file is at most \(maximumBytes >> 20) MiB")
            ])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError([Diagnostic(.error, place, "cannot read the file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError([Diagnostic(.error, place, "the file is not UTF-8 text")])
        }
        return text
    }

    /// Parses `text`; syntax errors become diagnostics at the place libyaml stopped.
    package init(text: String, file: String) throws(ConfigurationError) {
        self.file = file
        do {
            // Anchors and aliases would let a small file stand for an enormous one (each alias
            // repeats what it names): refused before anything is composed.
            if let (line, column) = YAMLDocument.anchorOrAlias(in: text) {
                throw ConfigurationError([
                    Diagnostic(
                        .error, SourceLocation(file: file, line: line, column: column),
                        "anchors and aliases (&name, *name) are not accepted here: write each value out")
                ])
            }
            root = try Yams.compose(yaml: text)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as YamlError {
            throw ConfigurationError([YAMLDocument.diagnostic(for: error, file: file)])
        } catch {
            throw ConfigurationError([Diagnostic(.error, SourceLocation(file: file, line: 1, column: 1), "\(error)")])
        }
    }

    static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "YAML syntax: \(problem)"
            if let context {
                message += " (\(context.text) started at line \(context.mark.line), column \(context.mark.column))"
            }
            return Diagnostic(.error, SourceLocation(file: file, line: mark.line, column: mark.column), message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(
                .error, SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                "duplicate key \(duplicates.joined(separator: ", ")) in the same block")
        case .reader(let problem, _, _, _):
            return Diagnostic(.error, SourceLocation(file: file, line: 1, column: 1), "cannot read the file: \(problem)")
        default:
            return Diagnostic(.error, SourceLocation(file: file, line: 1, column: 1), "\(error)")
        }
    }

    /// Where the text uses an anchor (`&name`) or an alias (`*name`): an `&` or `*` where a
    /// node starts (a line's start, after `- `, `: `, `? `, `[`, `{` or `,`), outside quotes,
    /// comments and block scalars. (A plain scalar cannot start with either; `plumereau-*` is
    /// no alias.)
    static func anchorOrAlias(in text: String) -> (line: Int, column: Int)? {
        var lineNumber = 0
        var blockIndent: Int? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let characters = Array(line)
            let indent = characters.prefix { $0 == " " }.count
            if let block = blockIndent {
                if characters.allSatisfy({ $0 == " " || $0 == "\r" }) || indent > block { continue }
                blockIndent = nil
            }
            var inSingle = false, inDouble = false
            var previous: Character? = nil  // the last character that is not a blank, on this line
            var index = 0
            while index < characters.count {
                let character = characters[index]
                if inDouble {
                    if character == "\\" { index += 1 } else if character == "\"" { inDouble = false }
                } else if inSingle {
                    if character == "'" { inSingle = false }
                } else if character == "#" && (index == 0 || characters[index - 1] == " " || characters[index - 1] == "\t") {
                    break  // a comment
                } else if character == "\"" || character == "'" {
                    if previous == nil || ["-", ":", "?", "[", "{", ","].contains(previous!) {
                        if character == "\"" { inDouble = true } else { inSingle = true }
                    }
                } else if character == "&" || character == "*" {
                    let starts = previous == nil || ["[", "{", ","].contains(previous!)
                        || (["-", ":", "?"].contains(previous!) && index > 0 && (characters[index - 1] == " " || characters[index - 1] == "\t"))
                    if starts { return (lineNumber, index + 1) }
                }
                if character != " " && character != "\t" { previous = character }
                index += 1
            }
            // A block scalar (`|` or `>`, with its indicators) starts on the next lines.
            let trimmed = line.split(separator: "#", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if !inSingle && !inDouble, let last = trimmed.split(separator: " ").last,
                let first = last.first, first == "|" || first == ">", last.dropFirst().allSatisfy({ "+-0123456789".contains($0) })
            {
                blockIndent = indent
            }
        }
        return nil
    }

    package func location(of node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }
}

/// Collects diagnostics while a YAML tree is checked, and reads typed values from nodes.
package struct YAMLChecker {
    package let document: YAMLDocument
    package var diagnostics: [Diagnostic] = []

    package init(document: YAMLDocument) { self.document = document }

    package mutating func error(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(.error, document.location(of: node), message))
    }

    package mutating func warning(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(.warning, document.location(of: node), message))
    }

    /// The mapping's entries as (key text, key node, value node); reports keys that are
    /// not in `allowed` and keys given twice.
    package mutating func entries(of node: Node, allowed: [String], what: String) -> [String: (key: Node, value: Node)] {
        guard let mapping = node.mapping else {
            error(node, "\(what) must be a block of `key: value` lines")
            return [:]
        }
        var result: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                error(key, "keys of \(what) must be plain words")
                continue
            }
            if !allowed.contains(name) {
                let hint = closest(to: name, in: allowed).map { " (did you mean `\($0)`?)" } ?? ""
                error(key, "unknown key `\(name)` in \(what)\(hint); allowed: \(allowed.joined(separator: ", "))")
                continue
            }
            if let first = result[name] {
                error(key, "`\(name)` given twice in \(what) (first at line \(document.location(of: first.key).line))")
                continue
            }
            result[name] = (key, value)
        }
        return result
    }

    /// A required or optional text value: at most `maximumLength` characters, and no
    /// control character (line breaks and tabs only where `allowLineBreaks`), since what a
    /// configuration file says ends up on operators' and auditors' screens.
    package mutating func text(
        _ entries: [String: (key: Node, value: Node)], _ key: String, in what: String, required: Bool, maximumLength: Int = 256,
        allowLineBreaks: Bool = false
    ) -> (String, Node)? {
        guard let entry = entries[key] else {
            return nil
        }
        guard let scalar = entry.value.scalar else {
            error(entry.value, "`\(key)` in \(what) must be a single value")
            return nil
        }
        let value = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        if required && value.isEmpty {
            error(entry.value, "`\(key)` in \(what) must not be empty")
            return nil
        }
        if let (position, problem) = TerminalText.firstProblem(in: value, allowLineBreaks: allowLineBreaks) {
            error(entry.value, "`\(key)` in \(what) contains \(problem) at character \(position): remove it")
            return nil
        }
        if value.count > maximumLength {
            error(entry.value, "`\(key)` in \(what) is \(value.count) characters long; at most \(maximumLength)")
            return nil
        }
        return (value, entry.value)
    }

    /// The nearest allowed word, for "did you mean" hints on typos.
    private func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, word.count / 3) else { return nil }
        return best
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
