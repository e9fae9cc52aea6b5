/// Tokens of the template language, produced by `TemplateLexer`.
enum TokenKind: Equatable {
    case text(String)          // literal template data between tags
    case variableBegin         // {{
    case variableEnd           // }}
    case blockBegin            // {%
    case blockEnd              // %}
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(String)
    case eof
}

struct Token {
    let kind: TokenKind
    let pos: SourcePos

    var describe: String {
        switch kind {
        case .text: return "template text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string: return "string literal"
        case .integer(let i): return "'\(i)'"
        case .float(let d): return "'\(d)'"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }
}
