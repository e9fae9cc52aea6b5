import XCTest
@testable import Script

final class ParserTests: XCTestCase {
    private func statements(_ text: String) -> [Statement] {
        let r = Parser.parse(text, file: "t.tune")
        XCTAssertEqual(r.diagnostics, [], "unexpected diagnostics for \(text)")
        return r.statements
    }

    private func words(_ text: String) -> [String] {
        guard let s = statements(text).first else { return [] }
        return [s.verb] + s.arguments.map { $0.literal ?? "<var>" }
    }

    func testWordsSplitOnBlanksAndCommentsStartOnlyAWord() {
        XCTAssertEqual(words("set  --dataset\tdata/a.jsonl#200 b.csv   # the rest is a comment"),
                       ["set", "--dataset", "data/a.jsonl#200", "b.csv"])
        XCTAssertEqual(statements("# only a comment\n\n   \n").count, 0)
    }

    func testTrailingBackslashJoinsLines() {
        let s = statements("set --lora_rank 16 \\\n    --lora_alpha 32\nshow args")
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s[0].arguments.map(\.literal), ["--lora_rank", "16", "--lora_alpha", "32"])
        XCTAssertEqual(s[0].arguments[2].location, SourceLocation(file: "t.tune", line: 2, column: 5))
        XCTAssertEqual(s[1].location, SourceLocation(file: "t.tune", line: 3, column: 1))
        // The statement text keeps the continuation so history and save replay it.
        XCTAssertEqual(s[0].text, "set --lora_rank 16 \\\n    --lora_alpha 32")
    }

    func testSingleQuotesAreLiteral() {
        XCTAssertEqual(words(#"set system 'a \n "b" ${x} $y'"#), ["set", "system", #"a \n "b" ${x} $y"#])
        // Shell idiom for a quote inside single quotes.
        XCTAssertEqual(words(#"ask 'it'\''s'"#), ["ask", "it's"])
    }

    func testDoubleQuoteEscapes() {
        XCTAssertEqual(words(#"ask "line\none\ttab \"q\" back\\slash \$5 \x""#),
                       ["ask", "line\none\ttab \"q\" back\\slash $5 \\x"])
    }

    func testQuotedWordsJoinWithNeighbours() {
        XCTAssertEqual(words(#"set model_name 小黄 'Xiao Huang'"#), ["set", "model_name", "小黄", "Xiao Huang"])
        XCTAssertEqual(words(#"ask pre"mid dle"'post'"#), ["ask", "premid dlepost"])
        XCTAssertEqual(words(#"ask a\ b"#), ["ask", "a b"])
    }

    func testQuotedWordIsNotAFlag() {
        let s = statements(#"ask "--lora_rank""#)[0]
        XCTAssertTrue(s.arguments[0].isQuoted)
        XCTAssertFalse(statements("ask --lora_rank")[0].arguments[0].isQuoted)
    }

    func testVariablesAreKeptWithTheirPlace() {
        let s = statements("load model ${MODEL}/x.gguf \"at $HOME\" '${not}'")[0]
        XCTAssertEqual(s.arguments[1].parts, [
            .variable(name: "MODEL", location: SourceLocation(file: "t.tune", line: 1, column: 12)), .text("/x.gguf"),
        ])
        XCTAssertEqual(s.arguments[2].parts, [
            .text("at "), .variable(name: "HOME", location: SourceLocation(file: "t.tune", line: 1, column: 32)),
        ])
        XCTAssertEqual(s.arguments[3].literal, "${not}")
        XCTAssertEqual(words("ask costs $5 and $"), ["ask", "costs", "$5", "and", "$"])
    }

    func testBadVariableSyntaxIsReported() {
        let r = Parser.parse("ask ${1x} ${open", file: "t.tune")
        XCTAssertEqual(r.diagnostics.map(\.location?.column), [5, 11])
        XCTAssertTrue(r.diagnostics[0].message.contains("not a variable name"), r.diagnostics[0].message)
        XCTAssertTrue(r.diagnostics[1].message.contains("not closed"), r.diagnostics[1].message)
    }

    func testUnterminatedQuoteNamesWhereItOpens() {
        let r = Parser.parse("set lora_rank 8\nask \"hello\nworld", file: "t.tune")
        XCTAssertTrue(r.isIncomplete)
        XCTAssertEqual(r.diagnostics.count, 1)
        XCTAssertEqual(r.diagnostics[0].location, SourceLocation(file: "t.tune", line: 2, column: 5))
        XCTAssertEqual(r.diagnostics[0].description, "t.tune:2:5: error: unterminated \" quote (it opens here)")
    }

    func testMoreInputIsNeededInsideQuotesAndAfterABackslash() {
        XCTAssertTrue(Parser.needsMoreInput("ask 'hello"))
        XCTAssertTrue(Parser.needsMoreInput("set --a 1 \\"))
        XCTAssertTrue(Parser.needsMoreInput("ask \"a\nb"))
        XCTAssertFalse(Parser.needsMoreInput("ask 'hello\nworld'"))
        XCTAssertFalse(Parser.needsMoreInput("ask don\\'t"))
        XCTAssertFalse(Parser.needsMoreInput("# it's a comment"))
    }

    func testMultiLineQuoteKeepsTheNewline() {
        XCTAssertEqual(words("ask 'one\ntwo'"), ["ask", "one\ntwo"])
        // Inside double quotes a backslash-newline joins the lines, as in a shell.
        XCTAssertEqual(words("ask \"one \\\ntwo\""), ["ask", "one two"])
    }

    func testQuestionMarkIsHelp() {
        let s = statements("?lora_rank")[0]
        XCTAssertEqual(s.verb, "help")
        XCTAssertEqual(s.arguments.map(\.literal), ["lora_rank"])
        XCTAssertEqual(s.arguments[0].location.column, 2)
        XCTAssertEqual(statements("?")[0].arguments.count, 0)
    }

    func testColumnsCountCharactersNotBytes() {
        let s = statements("set model_name 小黄 x")[0]
        XCTAssertEqual(s.arguments.map(\.location.column), [5, 16, 19])
    }

    func testAStatementMustStartWithAName() {
        let r = Parser.parse("'set' x\nset y 1", file: "t.tune")
        XCTAssertEqual(r.diagnostics.count, 1)
        XCTAssertEqual(r.diagnostics[0].location?.line, 1)
        XCTAssertEqual(r.statements.map(\.verb), ["set"])
    }

    /// What `save` writes must read back to the same words: values go through
    /// ArgumentValue.render (the registry's shell quoting) and come back through the lexer.
    func testRenderedValuesReadBackUnchanged() {
        let tricky = ["plain", "with space", "it's", #"back\slash"#, "#hash", "a#1", "$HOME", "${x}",
                      "\"dq\"", "tab\there", "line\nbreak", "", "小黄", "{\"k\": 1}"]
        for s in tricky {
            let rendered = ArgumentValue.string(s).render
            let back = words("set x " + rendered)
            XCTAssertEqual(back, ["set", "x", s], "rendered as \(rendered)")
        }
    }

    func testCommandLineStatementKeepsWordsAsGiven() {
        let s = Statement.fromCommandLine(["sft", "--model", "a b", "--lora_rank", "8"])!
        XCTAssertEqual(s.verb, "sft")
        XCTAssertEqual(s.arguments.map(\.literal), ["--model", "a b", "--lora_rank", "8"])
        XCTAssertEqual(s.arguments.map(\.location.column), [5, 13, 17, 29])
        XCTAssertEqual(s.text, "sft --model 'a b' --lora_rank 8")
    }

    /// Scripts come from outside: no input may crash the lexer, and every place it reports
    /// lies inside the text.
    func testArbitraryTextNeverCrashesAndPlacesStayInside() {
        let alphabet: [Character] = ["a", "-", " ", "\t", "\n", "'", "\"", "\\", "$", "{", "}", "#", "?", "小", "\r\n"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let text = String((0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            let r = Parser.parse(text, file: "f")
            let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            for loc in r.diagnostics.compactMap(\.location) + r.statements.flatMap({ [$0.location] + $0.arguments.map(\.location) }) {
                XCTAssertTrue(loc.line >= 1 && loc.line <= lines.count, "line \(loc.line) in \(text.debugDescription)")
                XCTAssertTrue(loc.column >= 1 && loc.column <= lines[loc.line - 1].count + 1, "column in \(text.debugDescription)")
            }
            _ = Parser.needsMoreInput(text)
        }
    }
}
