package winrmsim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/scanner/probe"
)

// WS-Management actions of the Windows remote shell, as the
// github.com/masterzen/winrm client sends them.
const (
	actionCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actionDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actionCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	actionReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	actionSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	actionSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
	shellURI      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
	stateDone     = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
	stateRunning  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
)

// envelope is the part of a request the simulator reads. encoding/xml
// matches local names, so the client's namespace prefixes do not matter.
type envelope struct {
	Header struct {
		Action      string `xml:"Action"`
		MessageID   string `xml:"MessageID"`
		ResourceURI string `xml:"ResourceURI"`
		Selectors   []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"SelectorSet>Selector"`
	} `xml:"Header"`
	Body struct {
		CommandLine *struct {
			Command   string   `xml:"Command"`
			Arguments []string `xml:"Arguments"`
		} `xml:"CommandLine"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"DesiredStream"`
		} `xml:"Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"Code"`
		} `xml:"Signal"`
	} `xml:"Body"`
}

func (e *envelope) shellID() string {
	for _, s := range e.Header.Selectors {
		if s.Name == "ShellId" {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// command is one command of a shell and what is left to send of its output.
type command struct {
	stdout, stderr []byte
	exitCode       int
	slow           bool
	received       bool
}

// serveWSMan answers one authenticated WS-Management request for host h.
func (h *host) serveWSMan(w http.ResponseWriter, r *http.Request, body []byte) {
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		h.fault(w, "", "w:InvalidMessageInformation", "The WS-Management service cannot process the request because the XML is invalid.")
		return
	}
	rel := env.Header.MessageID
	if env.Header.ResourceURI != shellURI {
		h.fault(w, rel, "w:DestinationUnreachable", "The WS-Management service cannot process the request because the resource URI is not supported.")
		return
	}
	switch env.Header.Action {
	case actionCreate:
		id := newID()
		h.mu.Lock()
		h.shells[id] = map[string]*command{}
		h.stats.ShellsCreated++
		h.mu.Unlock()
		h.reply(w, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", rel, fmt.Sprintf(
			`<x:ResourceCreated><a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">%s</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>`+
				`<rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>%s</rsp:ResourceUri><rsp:Owner>%s</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
			h.url(), shellURI, id, id, shellURI, xmlEscape(h.sim.cfg.User)))

	case actionDelete:
		id := env.shellID()
		h.mu.Lock()
		_, ok := h.shells[id]
		delete(h.shells, id)
		if ok {
			h.stats.ShellsDeleted++
		}
		h.mu.Unlock()
		if !ok {
			h.fault(w, rel, "w:InvalidSelectors", "The WS-Management service cannot process the request because the request contained invalid selectors for the resource.")
			return
		}
		h.reply(w, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", rel, "")

	case actionCommand:
		if env.Body.CommandLine == nil {
			h.fault(w, rel, "w:SchemaValidationError", "The SOAP XML in the message does not match the corresponding XML schema definition.")
			return
		}
		line := strings.TrimSpace(env.Body.CommandLine.Command)
		if len(env.Body.CommandLine.Arguments) > 0 {
			line += " " + strings.Join(env.Body.CommandLine.Arguments, " ")
		}
		cmd := h.run(line)
		id := newID()
		h.mu.Lock()
		shell, ok := h.shells[env.shellID()]
		if ok {
			shell[id] = cmd
			h.stats.Commands = append(h.stats.Commands, line)
		}
		h.mu.Unlock()
		if !ok {
			h.fault(w, rel, "w:InvalidSelectors", "The WS-Management service cannot process the request because the request contained invalid selectors for the resource.")
			return
		}
		h.reply(w, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse", rel,
			`<rsp:CommandResponse><rsp:CommandId>`+id+`</rsp:CommandId></rsp:CommandResponse>`)

	case actionReceive:
		if env.Body.Receive == nil {
			h.fault(w, rel, "w:SchemaValidationError", "The SOAP XML in the message does not match the corresponding XML schema definition.")
			return
		}
		cid := env.Body.Receive.DesiredStream.CommandID
		h.mu.Lock()
		cmd := h.shells[env.shellID()][cid]
		slow := cmd != nil && cmd.slow && !cmd.received
		if cmd != nil {
			cmd.received = true
		}
		h.mu.Unlock()
		if cmd == nil {
			h.fault(w, rel, "w:InvalidSelectors", "The WS-Management service cannot process the request because the request contained invalid selectors for the resource.")
			return
		}
		if slow {
			t := time.NewTimer(h.sim.cfg.SlowDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			case <-h.sim.done:
				return
			}
		}
		h.reply(w, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse", rel, h.receive(cid, cmd))

	case actionSignal:
		if env.Body.Signal == nil {
			h.fault(w, rel, "w:SchemaValidationError", "The SOAP XML in the message does not match the corresponding XML schema definition.")
			return
		}
		h.mu.Lock()
		cmd := h.shells[env.shellID()][env.Body.Signal.CommandID]
		if cmd != nil {
			h.stats.Signals++
			cmd.stdout, cmd.stderr = nil, nil
		}
		h.mu.Unlock()
		if cmd == nil {
			h.fault(w, rel, "w:InvalidSelectors", "The WS-Management service cannot process the request because the request contained invalid selectors for the resource.")
			return
		}
		h.reply(w, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", rel, `<rsp:SignalResponse/>`)

	case actionSend:
		h.reply(w, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse", rel, `<rsp:SendResponse/>`)

	default:
		h.fault(w, rel, "a:ActionNotSupported", "The action is not supported by the service.")
	}
}

// run decides what a command line prints: the profile's probe output for
// exactly probe.WindowsCommand, an error from cmd.exe otherwise.
func (h *host) run(line string) *command {
	if line != probe.WindowsCommand {
		name, _, _ := strings.Cut(line, " ")
		return &command{
			stderr:   []byte(fmt.Sprintf("'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", name)),
			exitCode: 1,
		}
	}
	p := h.profile
	return &command{stdout: p.Stdout, stderr: p.Stderr, exitCode: p.ExitCode, slow: p.Slow}
}

// receive sends the next chunk of a command's output; the last chunk
// carries the Done state and the exit code, as Windows does.
func (h *host) receive(cid string, cmd *command) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	chunk := h.sim.cfg.ChunkSize
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	out := cmd.stdout
	if len(out) > chunk {
		out = out[:chunk]
	}
	cmd.stdout = cmd.stdout[len(out):]
	if len(out) > 0 {
		fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s">%s</rsp:Stream>`, cid, base64.StdEncoding.EncodeToString(out))
	}
	if len(cmd.stdout) > 0 {
		fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"/></rsp:ReceiveResponse>`, cid, stateRunning)
		return b.String()
	}
	if len(cmd.stderr) > 0 {
		fmt.Fprintf(&b, `<rsp:Stream Name="stderr" CommandId="%s">%s</rsp:Stream>`, cid, base64.StdEncoding.EncodeToString(cmd.stderr))
		cmd.stderr = nil
	}
	fmt.Fprintf(&b, `<rsp:Stream Name="stdout" CommandId="%s" End="true"></rsp:Stream><rsp:Stream Name="stderr" CommandId="%s" End="true"></rsp:Stream>`, cid, cid)
	fmt.Fprintf(&b, `<rsp:CommandState CommandId="%s" State="%s"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`, cid, stateDone, cmd.exitCode)
	return b.String()
}

const envelopeHead = `<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">`

func (h *host) reply(w http.ResponseWriter, action, relatesTo, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	io.WriteString(w, envelopeHead+`<s:Header><a:Action>`+action+`</a:Action><a:MessageID>uuid:`+newID()+`</a:MessageID>`+
		`<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>`+xmlEscape(relatesTo)+`</a:RelatesTo></s:Header>`+
		`<s:Body>`+body+`</s:Body></s:Envelope>`)
}

// fault answers a SOAP fault with HTTP 500, as the WinRM service does.
func (h *host) fault(w http.ResponseWriter, relatesTo, subcode, reason string) {
	h.mu.Lock()
	h.stats.Faults++
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, envelopeHead+`<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action><a:MessageID>uuid:`+newID()+`</a:MessageID>`+
		`<a:RelatesTo>`+xmlEscape(relatesTo)+`</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>`+subcode+`</s:Value></s:Subcode></s:Code>`+
		`<s:Reason><s:Text xml:lang="en-US">`+xmlEscape(reason)+`</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`)
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// profileByName is winprofiles.Get with an error.
func profileByName(name string) (winprofiles.Profile, error) {
	p, ok := winprofiles.Get(name)
	if !ok {
		return p, fmt.Errorf("unknown profile %q (known: %s)", name, strings.Join(winprofiles.Names(), ", "))
	}
	return p, nil
}
