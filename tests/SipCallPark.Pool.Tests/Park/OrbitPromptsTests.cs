using Microsoft.Extensions.Logging.Abstractions;
using SipCallPark.Pool.Park;
using SipCallPark.Sip.Rtp;

namespace SipCallPark.Pool.Tests.Park;

[TestFixture]
public sealed class OrbitPromptsTests
{
    private string _directory = "";

    [SetUp]
    public void MakeDirectory() => _directory = Directory.CreateTempSubdirectory("prompts-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_directory, recursive: true);

    internal static string RepositoryPrompts()
    {
        for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SipCallPark.sln"))) return Path.Combine(directory.FullName, "config", "music", "prompts");
        }
        throw new InvalidOperationException("repository root not found");
    }

    [Test]
    public void The_prompts_for_orbit_7005_are_the_lead_in_then_7_0_0_5()
    {
        var prompts = OrbitPrompts.Load(RepositoryPrompts(), NullLogger.Instance);

        Assert.That(prompts, Is.Not.Null, "the committed prompts load");
        Assert.That(prompts!.For("7005").Select(p => Path.GetFileName(p.Description)),
            Is.EqualTo(new[] { "lead-in.wav", "7.wav", "0.wav", "0.wav", "5.wav" }));
    }

    [Test]
    public void The_committed_prompts_are_small_8_kHz_files_of_under_a_second_each()
    {
        foreach (var name in OrbitPrompts.FileNames)
        {
            var path = Path.Combine(RepositoryPrompts(), name);
            var prompt = MusicSource.FromWavFile(path);
            Assert.That(new FileInfo(path).Length, Is.LessThan(20 * 1024), name);
            Assert.That(prompt.Duration, Is.InRange(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)), name);
        }
    }

    [Test]
    public void An_orbit_with_characters_other_than_digits_speaks_only_its_digits()
    {
        var prompts = OrbitPrompts.Load(RepositoryPrompts(), NullLogger.Instance)!;

        Assert.That(prompts.For("7\u0660a;*1").Select(p => Path.GetFileName(p.Description)), Is.EqualTo(new[] { "lead-in.wav", "7.wav", "1.wav" }),
            "an Arabic-Indic zero, letters and punctuation play nothing and index nothing");
    }

    [Test]
    public void A_directory_missing_a_digit_loads_no_prompts_and_the_park_plays_music_only()
    {
        foreach (var name in OrbitPrompts.FileNames.Where(n => n != "3.wav")) File.Copy(Path.Combine(RepositoryPrompts(), name), Path.Combine(_directory, name));

        Assert.That(OrbitPrompts.Load(_directory, NullLogger.Instance), Is.Null);
    }

    [Test]
    public void A_prompt_that_is_not_8_kHz_mono_PCM_loads_no_prompts()
    {
        foreach (var name in OrbitPrompts.FileNames) File.Copy(Path.Combine(RepositoryPrompts(), name), Path.Combine(_directory, name));
        File.WriteAllBytes(Path.Combine(_directory, "lead-in.wav"), "RIFF\0\0\0\0WAVEjunk"u8.ToArray());

        Assert.That(OrbitPrompts.Load(_directory, NullLogger.Instance), Is.Null);
    }

    [Test]
    public void A_prompt_directory_that_does_not_exist_refuses_to_start_naming_the_key()
    {
        var e = Assert.Throws<OptionsValidationError>(() => new ParkOptions { PromptDirectory = Path.Combine(_directory, "nope") }.Validate("Pool:Park"));

        Assert.That(e!.Key, Is.EqualTo("Pool:Park:PromptDirectory"));
    }

    [Test]
    public void A_prompt_directory_missing_a_file_refuses_to_start_naming_the_key_and_the_file()
    {
        File.Copy(Path.Combine(RepositoryPrompts(), "lead-in.wav"), Path.Combine(_directory, "lead-in.wav"));

        var e = Assert.Throws<OptionsValidationError>(() => new ParkOptions { PromptDirectory = _directory }.Validate("Pool:Park"));

        Assert.That((e!.Key, e.Message.Contains("0.wav")), Is.EqualTo(("Pool:Park:PromptDirectory", true)), e.Message);
    }

    [Test]
    public void The_repositorys_prompt_directory_is_valid()
    {
        Assert.DoesNotThrow(() => new ParkOptions { PromptDirectory = RepositoryPrompts() }.Validate("Pool:Park"));
    }
}
