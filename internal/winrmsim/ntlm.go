package winrmsim

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //lint:ignore SA1019 NTLM is built on MD4.
)

// The server side of NTLMv2 (MS-NLMP), enough to check what
// github.com/Azure/go-ntlmssp (the winrm client's NTLM) sends: a CHALLENGE
// for a NEGOTIATE, and verification of the NTProofStr of an AUTHENTICATE.
// No signing, sealing or key exchange: WinRM over HTTPS needs none.

var ntlmSignature = []byte("NTLMSSP\x00")

const (
	ntlmNegotiateUnicode      = 1 << 0
	ntlmRequestTarget         = 1 << 2
	ntlmNegotiateNTLM         = 1 << 9
	ntlmNegotiateAlwaysSign   = 1 << 15
	ntlmTargetTypeServer      = 1 << 17
	ntlmExtendedSessionSec    = 1 << 19
	ntlmNegotiateTargetInfo   = 1 << 23
	ntlmNegotiate128          = 1 << 29
	ntlmNegotiate56           = 1 << 31
	ntlmComputerName          = "WINSIM"
	ntlmAvEOL, ntlmAvNbComp   = 0, 1
	ntlmAvNbDomain, ntlmAvTS  = 2, 7
	ntlmChallengeHeaderLength = 48
)

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// ntlmMessageType returns the type of an NTLM message, or 0.
func ntlmMessageType(msg []byte) uint32 {
	if len(msg) < 12 || !bytes.Equal(msg[:8], ntlmSignature) {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[8:12])
}

// ntlmChallenge builds a CHALLENGE message around a fresh server challenge.
func ntlmChallenge() (msg, serverChallenge []byte) {
	serverChallenge = make([]byte, 8)
	rand.Read(serverChallenge)
	target := utf16le(ntlmComputerName)
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		binary.Write(&info, binary.LittleEndian, id)
		binary.Write(&info, binary.LittleEndian, uint16(len(v)))
		info.Write(v)
	}
	av(ntlmAvNbDomain, target)
	av(ntlmAvNbComp, target)
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(ntlmAvTS, ts)
	av(ntlmAvEOL, nil)

	flags := uint32(ntlmNegotiateUnicode | ntlmRequestTarget | ntlmNegotiateNTLM | ntlmNegotiateAlwaysSign |
		ntlmTargetTypeServer | ntlmExtendedSessionSec | ntlmNegotiateTargetInfo | ntlmNegotiate128 | ntlmNegotiate56)
	var b bytes.Buffer
	b.Write(ntlmSignature)
	binary.Write(&b, binary.LittleEndian, uint32(2))
	field := func(n, off int) {
		binary.Write(&b, binary.LittleEndian, uint16(n))
		binary.Write(&b, binary.LittleEndian, uint16(n))
		binary.Write(&b, binary.LittleEndian, uint32(off))
	}
	field(len(target), ntlmChallengeHeaderLength)
	binary.Write(&b, binary.LittleEndian, flags)
	b.Write(serverChallenge)
	b.Write(make([]byte, 8))
	field(info.Len(), ntlmChallengeHeaderLength+len(target))
	b.Write(target)
	b.Write(info.Bytes())
	return b.Bytes(), serverChallenge
}

// ntlmVerify checks an AUTHENTICATE message against the server challenge
// and the one account the simulator knows.
func ntlmVerify(msg, serverChallenge []byte, user, password string) error {
	if ntlmMessageType(msg) != 3 || len(msg) < 52 {
		return errors.New("not an NTLM AUTHENTICATE message")
	}
	field := func(at int) ([]byte, error) {
		n := int(binary.LittleEndian.Uint16(msg[at:]))
		off := int(binary.LittleEndian.Uint32(msg[at+4:]))
		if off < 0 || off+n > len(msg) {
			return nil, errors.New("NTLM field beyond the message")
		}
		return msg[off : off+n], nil
	}
	nt, err := field(20)
	if err != nil {
		return err
	}
	domain, err := field(28)
	if err != nil {
		return err
	}
	name, err := field(36)
	if err != nil {
		return err
	}
	if !strings.EqualFold(fromUTF16le(name), user) {
		return errors.New("unknown user")
	}
	if len(nt) < 16+28 {
		return errors.New("not an NTLMv2 response")
	}
	h := md4.New()
	h.Write(utf16le(password))
	ntowf := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(fromUTF16le(name))+fromUTF16le(domain)))
	blob := nt[16:]
	if !hmac.Equal(hmacMD5(ntowf, serverChallenge, blob), nt[:16]) {
		return errors.New("wrong password")
	}
	return nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}
