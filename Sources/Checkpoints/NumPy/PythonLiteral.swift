// A small parser for the Python literal subset NPY headers use: dicts, strings, ints, tuples, lists, booleans.

/// A Python literal value from an NPY header.
enum PythonLiteral: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(key: PythonLiteral, value: PythonLiteral)])

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.none, .none): return true
        case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Parses `text` as one literal followed only by whitespace.
    /// - Throws: `PythonLiteralError` with the character position.
    static func parse(_ text: String) throws -> PythonLiteral {
        var p = Parser(chars: Array(text.unicodeScalars))
        let value = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.chars.count else { throw p.error("unexpected text after the literal") }
        return value
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        var i = 0

        func error(_ m: String) -> PythonLiteralError { PythonLiteralError(message: m, position: i) }

        mutating func skipSpace() {
            while i < chars.count, [" ", "\t", "\n", "\r"].contains(chars[i]) { i += 1 }
        }

        mutating func value(depth: Int) throws -> PythonLiteral {
            guard depth < 32 else { throw error("nesting too deep") }
            skipSpace()
            guard i < chars.count else { throw error("unexpected end of header") }
            switch chars[i] {
            case "{":
                i += 1
                var members: [(key: PythonLiteral, value: PythonLiteral)] = []
                while true {
                    skipSpace()
                    if i < chars.count, chars[i] == "}" { i += 1; return .dict(members) }
                    let key = try value(depth: depth + 1)
                    skipSpace()
                    guard i < chars.count, chars[i] == ":" else { throw error("expected ':' after a dict key") }
                    i += 1
                    members.append((key, try value(depth: depth + 1)))
                    guard try separator(closing: "}") else { i += 1; return .dict(members) }
                }
            case "(", "[":
                let closing: Unicode.Scalar = chars[i] == "(" ? ")" : "]"
                let isTuple = chars[i] == "("
                i += 1
                var items: [PythonLiteral] = []
                var sawComma = false
                while true {
                    skipSpace()
                    if i < chars.count, chars[i] == closing { i += 1; break }
                    items.append(try value(depth: depth + 1))
                    if try separator(closing: closing) { sawComma = true } else { i += 1; break }
                }
                if isTuple, items.count == 1, !sawComma { return items[0] }  // `(5)` is just 5 in Python
                return isTuple ? .tuple(items) : .list(items)
            case "'", "\"":
                return .string(try string())
            case "-", "+", "0"..."9":
                return .int(try integer())
            default:
                for (word, literal) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)]
                where matches(word) {
                    i += word.unicodeScalars.count
                    return literal
                }
                throw error("unexpected character '\(chars[i])'")
            }
        }

        /// After an item: consumes a comma and returns true, or finds `closing` (not consumed) and returns false.
        mutating func separator(closing: Unicode.Scalar) throws -> Bool {
            skipSpace()
            guard i < chars.count else { throw error("unexpected end of header") }
            if chars[i] == "," { i += 1; return true }
            if chars[i] == closing { return false }
            throw error("expected ',' or '\(closing)'")
        }

        func matches(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            guard i + w.count <= chars.count, Array(chars[i..<i + w.count]) == w else { return false }
            return i + w.count == chars.count
                || !(chars[i + w.count].properties.isAlphabetic || chars[i + w.count] == "_")
        }

        mutating func string() throws -> String {
            let quote = chars[i]
            i += 1
            var s = String.UnicodeScalarView()
            while i < chars.count, chars[i] != quote {
                if chars[i] == "\\" {
                    i += 1
                    guard i < chars.count else { break }
                    switch chars[i] {
                    case "n": s.append("\n")
                    case "t": s.append("\t")
                    case "r": s.append("\r")
                    case "0": s.append("\0")
                    default: s.append(chars[i])  // \\ \' \" and anything else taken literally
                    }
                } else {
                    s.append(chars[i])
                }
                i += 1
            }
            guard i < chars.count else { throw error("unterminated string") }
            i += 1
            return String(s)
        }

        mutating func integer() throws -> Int {
            var negative = false
            if chars[i] == "-" || chars[i] == "+" { negative = chars[i] == "-"; i += 1 }
            var v = 0
            var digits = 0
            while i < chars.count, let d = chars[i].properties.numericType != nil ? Int(String(chars[i])) : nil,
                chars[i].isASCII
            {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(d)
                guard !o1, !o2 else { throw error("integer too large") }
                v = a
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw error("expected digits") }
            if i < chars.count, chars[i] == "L" || chars[i] == "l" { i += 1 }  // Python 2 long suffix
            if i < chars.count, chars[i] == "." || chars[i] == "e" || chars[i] == "E" {
                throw error("expected an integer, found a float")
            }
            return negative ? -v : v
        }
    }
}

/// A syntax error in an NPY header literal.
struct PythonLiteralError: Error, CustomStringConvertible {
    let message: String
    let position: Int
    var description: String { "\(message) at character \(position)" }
}
