import XCTest
@testable import Engine

/// Hostile or broken templates must fail cleanly: a TemplateError with a position, fast.
final class TemplateSandboxTests: XCTestCase {
    /// Parses and renders `source`; returns the error it must throw, checking the time bound.
    private func failure(_ source: String, context: TemplateDict = TemplateDict(), limits: TemplateLimits = .standard,
                         file: StaticString = #filePath, line: UInt = #line) -> TemplateError? {
        let start = Date()
        defer {
            let elapsed = Date().timeIntervalSince(start)
            XCTAssertLessThan(elapsed, 1.0, "took \(elapsed) s", file: file, line: line)
        }
        do {
            let out = try ChatTemplate(source: source, limits: limits).render(context: context)
            XCTFail("expected an error, rendered \(out.utf8.count) bytes", file: file, line: line)
            return nil
        } catch let e as TemplateError {
            XCTAssertGreaterThan(e.line, 0, "no line in \(e)", file: file, line: line)
            XCTAssertGreaterThan(e.column, 0, "no column in \(e)", file: file, line: line)
            return e
        } catch {
            XCTFail("not a TemplateError: \(error)", file: file, line: line)
            return nil
        }
    }

    func testSelfRecursiveMacroHitsDepthLimit() {
        let e = failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        XCTAssertEqual(e?.kind, .limit)
        XCTAssertTrue(e?.message.contains("256") ?? false, e?.description ?? "")
    }

    func testHugeRangeIsRefused() {
        let e = failure("{% for i in range(10**9) %}{{ i }}{% endfor %}")
        XCTAssertEqual(e?.kind, .limit)
        XCTAssertEqual(e?.line, 1)
        XCTAssertEqual(e?.column, 13)
    }

    func testDeepParenthesesAreRefusedByTheParser() {
        let e = failure("{{ " + String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300) + " }}")
        XCTAssertEqual(e?.kind, .limit)
    }

    func testDeepBlockNestingIsRefused() {
        let e = failure(String(repeating: "{% if true %}", count: 300) + "x" + String(repeating: "{% endif %}", count: 300))
        XCTAssertEqual(e?.kind, .limit)
    }

    func testNestedLoopsHitIterationLimit() {
        let e = failure("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
        XCTAssertEqual(e?.kind, .limit)
        XCTAssertTrue(e?.message.contains("loop iterations") ?? false, e?.description ?? "")
    }

    func testStepBudgetStopsLongEvaluation() {
        var limits = TemplateLimits()
        limits.maxSteps = 20_000
        let e = failure("{% for i in range(50000) %}{% set x = i * 2 + i * 3 - i %}{% endfor %}", limits: limits)
        XCTAssertEqual(e?.kind, .limit)
        XCTAssertTrue(e?.message.contains("evaluation steps") ?? false, e?.description ?? "")
    }

    func testHugeRepeatedStringIsRefusedBeforeAllocating() {
        let e = failure("{{ 'x' * 2000000000000 }}")
        XCTAssertEqual(e?.kind, .limit)
    }

    func testOutputLimit() {
        let e = failure("{% for i in range(100000) %}{{ 'abcdefghijklmnop' }}{% endfor %}")
        XCTAssertEqual(e?.kind, .limit)
        XCTAssertTrue(e?.message.contains("output") ?? false, e?.description ?? "")
    }

    func testDoublingStringHitsSizeLimit() {
        let e = failure("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")
        XCTAssertEqual(e?.kind, .limit)
    }

    func testPythonInternalsAreNotReachable() throws {
        // Like jinja2's sandbox: dunder attributes are undefined (print as nothing)...
        var ctx = TemplateDict()
        ctx["d"] = .dict(TemplateDict())
        let out = try ChatTemplate(source: "[{{ d.__class__ }}{{ ''.__class__ }}{{ raise_exception.__globals__ }}]").render(context: ctx)
        XCTAssertEqual(out, "[]")
        // ...and going further through them is an error, not a way out.
        let e = failure("{{ ''.__class__.__mro__[1].__subclasses__() }}")
        XCTAssertEqual(e?.kind, .undefined)
        let f = failure("{{ cycler.__init__.__globals__.os.popen('id').read() }}")
        XCTAssertEqual(f?.kind, .undefined)
    }

    func testInputsCannotBeMutated() {
        var ctx = TemplateDict()
        ctx["items"] = .array([.int(1)])
        let e = failure("{{ items.append(2) }}", context: ctx)
        XCTAssertEqual(e?.kind, .security)
        let f = failure("{% set d = {'a': 1} %}{{ d.update({'b': 2}) }}")
        XCTAssertEqual(f?.kind, .security)
    }

    func testUnclosedBlockPointsAtItsOpening() {
        let e = failure("line one\n  {% for m in messages %}{{ m }}\n")
        XCTAssertEqual(e?.kind, .syntax)
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.column, 3)
        XCTAssertTrue(e?.message.contains("endfor") ?? false, e?.description ?? "")
    }

    func testUnclosedTagsAndComments() {
        XCTAssertEqual(failure("abc {{ name ")?.kind, .syntax)
        XCTAssertEqual(failure("abc {% if x ")?.kind, .syntax)
        let e = failure("a\nb {# never closed")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.column, 3)
    }

    func testUnexpectedToken() {
        let e = failure("{{ 1 + }}")
        XCTAssertEqual(e?.kind, .syntax)
        XCTAssertEqual(e?.column, 8)
        XCTAssertEqual(failure("{% endif %}")?.kind, .syntax)
        XCTAssertEqual(failure("{% include 'x' %}")?.kind, .syntax)
    }

    func testUnknownFilterAndTest() {
        let e = failure("line1\n  {{ x | nosuch }}")
        XCTAssertEqual(e?.kind, .unknownFilter)
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.column, 10)
        XCTAssertTrue(e?.message.contains("nosuch") ?? false)
        XCTAssertEqual(failure("{{ 1 is nosuchtest }}")?.kind, .unknownTest)
    }

    func testRaiseExceptionCarriesMessageAndPosition() {
        let e = failure("ok\n{% if true %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}")
        XCTAssertEqual(e?.kind, .raised)
        XCTAssertEqual(e?.message, "Conversation roles must alternate")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.description, "template:2:17: Conversation roles must alternate")
    }

    func testUndefinedMisuseIsAnError() {
        XCTAssertEqual(failure("{{ missing.attr }}")?.kind, .undefined)
        XCTAssertEqual(failure("{{ missing() }}")?.kind, .undefined)
        XCTAssertEqual(failure("{{ 'a' + missing }}")?.kind, .undefined)
        XCTAssertEqual(failure("{{ missing | tojson }}")?.kind, .type)
    }

    func testIntegerOverflowIsAnErrorNotACrash() {
        XCTAssertEqual(failure("{{ 2 ** 64 }}")?.kind, .limit)
        XCTAssertEqual(failure("{{ 9223372036854775807 + 1 }}")?.kind, .limit)
        XCTAssertEqual(failure("{{ 99999999999999999999 }}")?.kind, .limit)
    }

    func testValuesCannotNestWithoutBound() {
        // Wrapping a namespace value in itself 100k times would make printing and freeing it
        // recurse that deep; it stops at the depth limit instead.
        let e = failure("{% set ns = namespace(x=[]) %}{% for i in range(99999) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}")
        XCTAssertEqual(e?.kind, .limit)
        XCTAssertTrue(e?.message.contains("nests deeper") ?? false, e?.description ?? "")
        let f = failure("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}")
        XCTAssertEqual(f?.kind, .limit)
    }

    func testQuadraticCopyingIsChargedToTheBudget() {
        XCTAssertEqual(failure("{% set ns = namespace(x=[]) %}{% for i in range(99999) %}{% set ns.x = ns.x + [i] %}{% endfor %}")?.kind, .limit)
        XCTAssertEqual(failure("{% set ns = namespace(s='') %}{% for i in range(99999) %}{% set ns.s = ns.s ~ 'abcdefgh' %}{% endfor %}")?.kind, .limit)
    }

    func testLongOperatorChainsAreBounded() {
        // A left-leaning chain is as deep as it is long; the parser bounds it like nesting.
        XCTAssertEqual(failure("{{ " + Array(repeating: "1", count: 20_000).joined(separator: " + ") + " }}")?.kind, .limit)
        XCTAssertEqual(failure("{{ x" + String(repeating: " | trim", count: 1000) + " }}")?.kind, .limit)
        XCTAssertEqual(failure("{{ x" + String(repeating: ".a", count: 1000) + " }}")?.kind, .limit)
    }

    func testPathologicalSubstringSearchIsRefused() {
        let e = failure("{{ ('a' * 500000 ~ 'b') in ('a' * 1000000) }}")
        XCTAssertEqual(e?.kind, .limit)
    }

    func testRuntimeErrorsCarryPositions() {
        XCTAssertEqual(failure("{{ {1: 'a'} }}")?.column, 4)
        XCTAssertEqual(failure("x\n{% macro m(a) %}{% endmacro %}{{ m(**[1]) }}")?.line, 2)
        var limits = TemplateLimits()
        limits.maxOutputBytes = 10
        let e = failure("{% for i in range(3) %}\nlong literal text{% endfor %}", limits: limits)
        XCTAssertEqual(e?.line, 2)     // the text after the tag's trimmed newline
        XCTAssertEqual(e?.column, 1)
    }
}
