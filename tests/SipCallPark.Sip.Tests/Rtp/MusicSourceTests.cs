using SipCallPark.Sip.Rtp;

namespace SipCallPark.Sip.Tests.Rtp;

public class MusicSourceTests
{
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "moh-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, byte[] image)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, image);
        return path;
    }

    [TestCase((ushort)2, 8000u, (ushort)16, "2 channels instead of mono")]
    [TestCase((ushort)1, 44100u, (ushort)16, "44100 Hz instead of 8000 Hz")]
    [TestCase((ushort)1, 8000u, (ushort)8, "8-bit samples instead of 16-bit")]
    public void A_wav_of_the_wrong_shape_is_refused_naming_the_file_and_the_problem(ushort channels, uint rate, ushort bits, string problem)
    {
        var path = Write("wrong.wav", WavImages.Build(channels: channels, rate: rate, bits: bits));

        var e = Assert.Throws<MusicFileException>(() => MusicSource.FromWavFile(path));

        Assert.That(e!.Message, Does.Contain(path).And.Contain(problem).And.Contain("8000 Hz mono 16-bit PCM"));
        Assert.That(e.FilePath, Is.EqualTo(path));
    }

    [Test]
    public void Every_problem_of_a_CD_quality_file_is_named_at_once()
    {
        var path = Write("cd.wav", WavImages.Build(channels: 2, rate: 44100, bits: 16));

        var e = Assert.Throws<MusicFileException>(() => MusicSource.FromWavFile(path));

        Assert.That(e!.Problem, Does.Contain("2 channels").And.Contain("44100 Hz"));
    }

    [Test]
    public void A_float_wav_is_refused() =>
        Assert.That(() => MusicSource.FromWavFile(Write("float.wav", WavImages.Build(format: 3, bits: 32))),
            Throws.TypeOf<MusicFileException>().With.Message.Contains("audio format 3"));

    [Test]
    public void A_file_that_is_not_a_wav_is_refused() =>
        Assert.That(() => MusicSource.FromWavFile(Write("song.mp3", "ID3\u0004 not riff"u8.ToArray())),
            Throws.TypeOf<MusicFileException>().With.Message.Contains("not a RIFF/WAVE file"));

    [Test]
    public void A_missing_file_is_refused_naming_it()
    {
        var path = Path.Combine(_directory, "missing.wav");
        Assert.That(() => MusicSource.FromWavFile(path),
            Throws.TypeOf<MusicFileException>().With.Message.Contains(path).And.Message.Contains("not found"));
    }

    [Test]
    public void A_wav_without_samples_is_refused() =>
        Assert.That(() => MusicSource.FromWavFile(Write("empty.wav", WavImages.Build(data: []))),
            Throws.TypeOf<MusicFileException>().With.Message.Contains("no samples"));

    [Test]
    public void Samples_are_encoded_once_and_the_last_frame_is_padded_with_silence()
    {
        var samples = Enumerable.Range(0, 200).Select(i => (short)(i * 100)).ToArray();
        var path = Write("ok.wav", WavImages.Build(data: WavImages.Samples(samples), extraChunk: true));

        var music = MusicSource.FromWavFile(path);

        Assert.That(music.FrameCount, Is.EqualTo(2));
        Assert.That(music.Frame(0).ToArray(), Is.EqualTo(samples[..160].Select(MuLaw.Encode).ToArray()));
        var second = music.Frame(1).ToArray();
        Assert.That(second[..40], Is.EqualTo(samples[160..].Select(MuLaw.Encode).ToArray()));
        Assert.That(second[40..], Is.All.EqualTo(0xFF));
    }

    [Test]
    public void Frames_loop_back_to_the_start()
    {
        var music = MusicSource.FromSamples(Enumerable.Range(0, 480).Select(i => (short)i).ToArray(), "test");

        Assert.That(music.FrameCount, Is.EqualTo(3));
        Assert.That(music.Frame(3).ToArray(), Is.EqualTo(music.Frame(0).ToArray()));
        Assert.That(music.Frame(3_000_000_001).ToArray(), Is.EqualTo(music.Frame(1).ToArray()));
        Assert.That(music.Frame(0).Length, Is.EqualTo(160));
    }

    [Test]
    public void The_generated_melody_is_a_few_seconds_of_quiet_sound_starting_and_ending_silent()
    {
        var samples = HoldMelody.Render();
        var music = MusicSource.Generated();

        Assert.That(samples.Length / 8000.0, Is.InRange(3.0, 6.0));
        Assert.That(samples.Max(s => Math.Abs((int)s)), Is.InRange(2000, 16384));
        Assert.That(Math.Abs((int)samples[0]), Is.LessThan(50));
        Assert.That(Math.Abs((int)samples[^1]), Is.LessThan(50));
        Assert.That(music.Duration, Is.EqualTo(TimeSpan.FromSeconds(samples.Length / 8000.0)));
    }

    [Test]
    public void What_the_writer_writes_the_loader_reads()
    {
        var samples = HoldMelody.Render();
        var path = Path.Combine(_directory, "melody.wav");
        using (var file = File.Create(path))
        {
            WavFile.Write(file, samples);
        }

        Assert.That(WavFile.ReadPcm16Mono8k(path), Is.EqualTo(samples));
    }

    [Test]
    public void The_default_music_file_in_config_loads_and_is_small()
    {
        var path = Path.Combine(RepositoryRoot(), "config", "music", "default-hold.wav");

        var music = MusicSource.FromWavFile(path);

        Assert.That(new FileInfo(path).Length, Is.LessThan(100 * 1024));
        Assert.That(music.Duration, Is.GreaterThan(TimeSpan.FromSeconds(3)));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SipCallPark.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("SipCallPark.sln not found above the test directory");
    }
}
