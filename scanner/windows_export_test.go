package scanner

// DialWinRM exposes dialWinRM to the external tests that drive it against
// internal/winrmsim (which imports this package).
var DialWinRM = dialWinRM
