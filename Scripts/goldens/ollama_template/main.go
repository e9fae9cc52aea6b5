// Renders the TEMPLATE of the committed Modelfiles (Tests/Fixtures/export/Modelfile.*) with Go's
// text/template, the template engine Ollama uses, over the data Ollama passes a chat template
// (.Messages of {Role, Content}; the Modelfile's SYSTEM inserted as a first system message when
// the conversation has none), and writes Tests/Fixtures/export/ollama_render.json.
//
// Run from the repository root: go run ./Scripts/goldens/ollama_template
package main

import (
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type Case struct {
	Messages []Message `json:"messages"`
	Rendered string    `json:"rendered"`
}

func quoted(text, keyword string) (string, bool) {
	start := strings.Index(text, keyword+" \"\"\"")
	if start < 0 {
		return "", false
	}
	rest := text[start+len(keyword)+4:]
	end := strings.Index(rest, "\"\"\"")
	return rest[:end], true
}

func main() {
	dir := "Tests/Fixtures/export/"
	conversations := [][]Message{
		{{"user", "Hello there"}},
		{{"system", "Answer briefly."}, {"user", "What is 2+2?"}},
		{{"user", "Hi"}, {"assistant", "Hello! How can I help?"}, {"user", "Tell me a joke."}},
	}
	out := map[string][]Case{}
	for _, name := range []string{"chatml", "llama3"} {
		data, err := os.ReadFile(dir + "Modelfile." + name)
		if err != nil {
			panic(err)
		}
		text := string(data)
		source, ok := quoted(text, "TEMPLATE")
		if !ok {
			panic("no TEMPLATE in " + name)
		}
		system, hasSystem := quoted(text, "SYSTEM")
		tmpl := template.Must(template.New(name).Parse(source))
		for _, conv := range conversations {
			msgs := conv
			if hasSystem && conv[0].Role != "system" {
				msgs = append([]Message{{"system", system}}, conv...)
			}
			var b strings.Builder
			if err := tmpl.Execute(&b, map[string]any{"Messages": msgs}); err != nil {
				panic(err)
			}
			out[name] = append(out[name], Case{Messages: conv, Rendered: b.String()})
		}
	}
	f, err := os.Create(dir + "ollama_render.json")
	if err != nil {
		panic(err)
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
	f.Close()
}
