namespace SipCallPark.Pool.Registrar;

/// <summary>How the server treats a binding (docs/design.md §7): resiliency mode means limited functionality, no park.</summary>
public enum RegistrationMode { Normal, Resiliency }
