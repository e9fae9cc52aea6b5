/// The character classes the pre-tokenizer regexes use, computed once per scalar.
///
/// letter = `\p{L}` (general categories Lu Ll Lt Lm Lo), number = `\p{N}` (Nd Nl No),
/// whitespace = `\s` (the Unicode White_Space property, as in Oniguruma/Rust regex and llama.cpp's
/// table), punctuation = `\p{P}`, lineBreak = `[\r\n]`.
struct ScalarClass: OptionSet {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)
    static let lineBreak = ScalarClass(rawValue: 8)
    static let punctuation = ScalarClass(rawValue: 16)

    /// `[^\s\p{L}\p{N}]`: anything that is neither whitespace, letter nor number.
    var isOther: Bool { rawValue & (ScalarClass.letter.rawValue | ScalarClass.number.rawValue | ScalarClass.whitespace.rawValue) == 0 }

    static func of(_ value: UInt32) -> ScalarClass {
        if value < 128 { return asciiTable[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return [] }
        return classify(scalar)
    }

    private static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        var c: ScalarClass = []
        let props = scalar.properties
        switch props.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            c.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            c.insert(.punctuation)
        default:
            break
        }
        if props.isWhitespace { c.insert(.whitespace) }
        if scalar.value == 0x0A || scalar.value == 0x0D { c.insert(.lineBreak) }
        return c
    }

    private static let asciiTable: [ScalarClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }
}
