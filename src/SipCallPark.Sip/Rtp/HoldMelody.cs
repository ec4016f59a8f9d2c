namespace SipCallPark.Sip.Rtp;

/// <summary>
/// A short, quiet arpeggio (C – F – G – C major, 16 notes of 300 ms, 4.8 s) used when no music file is configured
/// and written out as <c>config/music/default-hold.wav</c> by <c>tools/music/MakeHoldWav.cs</c>. Every note starts and ends
/// at zero amplitude, so the loop joins without a click.
/// </summary>
internal static class HoldMelody
{
    public const int SampleRate = 8000;

    private const double NoteSeconds = 0.3;
    private const double AttackSeconds = 0.015;
    private const double ReleaseSeconds = 0.04;
    private const double DecaySeconds = 0.18;

    /// <summary>About −12 dBFS at the peak: background music, not a ringtone.</summary>
    private const double Peak = 0.25 * short.MaxValue;

    // Semitones from A4 (440 Hz): C5=3, E5=7, G5=10, F5=8, A5=12, C6=15, B5=14, D6=17.
    private static readonly int[] Notes = [3, 7, 10, 7, 8, 12, 15, 12, 10, 14, 17, 14, 3, 7, 10, 15];

    public static short[] Render()
    {
        int perNote = (int)(NoteSeconds * SampleRate);
        var samples = new short[perNote * Notes.Length];
        for (int n = 0; n < Notes.Length; n++)
        {
            double frequency = 440.0 * Math.Pow(2, Notes[n] / 12.0);
            RenderNote(samples.AsSpan(n * perNote, perNote), frequency);
        }

        return samples;
    }

    private static void RenderNote(Span<short> note, double frequency)
    {
        for (int i = 0; i < note.Length; i++)
        {
            double t = (double)i / SampleRate;
            double remaining = (double)(note.Length - i) / SampleRate;

            // A soft raised-cosine attack, a bell-like exponential decay, and a short fade to silence at the end.
            double attack = t < AttackSeconds ? 0.5 - 0.5 * Math.Cos(Math.PI * t / AttackSeconds) : 1.0;
            double release = remaining < ReleaseSeconds ? remaining / ReleaseSeconds : 1.0;
            double envelope = attack * release * Math.Exp(-t / DecaySeconds);

            // The octave at a third of the level makes it rounder than a bare sine.
            double phase = 2 * Math.PI * frequency * t;
            double wave = (Math.Sin(phase) + 0.3 * Math.Sin(2 * phase)) / 1.3;
            note[i] = (short)Math.Round(Peak * envelope * wave);
        }
    }
}
