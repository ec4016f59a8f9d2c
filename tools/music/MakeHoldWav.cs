#:project ../../src/SipCallPark.Sip/SipCallPark.Sip.csproj

// Writes the built-in hold melody (SipCallPark.Sip.Rtp.HoldMelody) as an 8 kHz mono 16-bit WAV.
// Usage, from the repository root:  dotnet run tools/music/MakeHoldWav.cs -- config/music/default-hold.wav
using SipCallPark.Sip.Rtp;

var path = args.Length > 0 ? args[0] : Path.Combine("config", "music", "default-hold.wav");
var samples = HoldMelody.Render();
using (var file = File.Create(path))
{
    WavFile.Write(file, samples);
}

Console.WriteLine($"{path}: {samples.Length} samples, {samples.Length / (double)HoldMelody.SampleRate:0.0} s, {new FileInfo(path).Length} bytes");
