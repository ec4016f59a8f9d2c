using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using SipCallPark.Sip.Message;
using SipCallPark.Sip.UserAgents;

namespace SipCallPark.Pool.Tests.Integration;

/// <summary>
/// The web console in a real browser: headless Chromium (Debian's <c>chromium</c> and <c>chromium-driver</c>, nothing
/// downloaded) on pool-a's admin listener, while lab phones park and retrieve and pool-b dies. Skipped, saying why,
/// where Chromium is not installed. With <c>SIPCALLPARK_CONSOLE_SCREENSHOTS=dir</c> it leaves a screenshot of each view
/// there (the ones in docs/console.md).
/// </summary>
[TestFixture]
public sealed class ConsoleBrowserTests : IntegrationTest
{
    private const string Token = "lab-console-browser-token";
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";
    private static readonly TimeSpan Bound = LabPhone.Bound;

    private ChromeDriver? _browser;

    private ChromeDriver Browser => _browser ?? throw new InvalidOperationException("no browser");

    [SetUp]
    public void StartBrowser()
    {
        if (!File.Exists(Chromium) || !File.Exists(ChromeDriver))
            Assert.Ignore($"Chromium is not installed ({Chromium}, {ChromeDriver}): apt-get install chromium chromium-driver");
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
            "--no-first-run", "--disable-extensions", "--disable-background-networking");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        _browser = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        _browser.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
    }

    [TearDown]
    public void StopBrowser()
    {
        _browser?.Quit();
        _browser?.Dispose();
        _browser = null;
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds in the page; fails naming <paramref name="what"/>.</summary>
    private TimeSpan WaitFor(string what, Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (condition()) return clock.Elapsed;
            }
            catch (WebDriverException)
            {
                // Redrawn under us (stale element): look again.
            }
            if (clock.Elapsed > Bound) Assert.Fail($"the page did not show {what} within {Bound.TotalSeconds} s");
            Thread.Sleep(25);
        }
    }

    private IWebElement Lamp(string orbit) => Browser.FindElement(By.CssSelector($"#orbit-grid [data-orbit='{orbit}']"));

    private string LampState(string orbit) => Lamp(orbit).GetAttribute("data-state") ?? "";

    private void Screenshot(string name)
    {
        if (Environment.GetEnvironmentVariable("SIPCALLPARK_CONSOLE_SCREENSHOTS") is not { Length: > 0 } dir) return;
        Directory.CreateDirectory(dir);
        Browser.GetScreenshot().SaveAsFile(Path.Combine(dir, name + ".png"));
    }

    private void ScrollTo(string id) => ((IJavaScriptExecutor)Browser).ExecuteScript($"document.getElementById('{id}').scrollIntoView()");

    private void SignIn(string token)
    {
        var field = Browser.FindElement(By.Id("token"));
        field.Clear();
        field.SendKeys(token);
        field.SendKeys(Keys.Enter);
    }

    [Test]
    public async Task Without_the_token_the_page_shows_nothing_and_a_wrong_token_is_refused()
    {
        var lab = await StartLabAsync(replication: true, adminToken: Token);
        Browser.Navigate().GoToUrl(lab.A.AdminUrl!);

        WaitFor("the token form", () => Browser.FindElement(By.Id("login")).Displayed);
        Assert.That(Browser.FindElement(By.Id("console")).Displayed, Is.False);
        SignIn("not-the-token");

        WaitFor("the refusal", () => Browser.FindElement(By.Id("login-error")).Text.Contains("refused", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(Browser.FindElement(By.Id("console")).Displayed, Is.False);
            Assert.That(Browser.FindElements(By.CssSelector("#orbit-grid .lamp")), Is.Empty, "no data reached the page");
            Assert.That(((IJavaScriptExecutor)Browser).ExecuteScript("return sessionStorage.length"), Is.EqualTo(0L), "a refused token is not kept");
        });
    }

    [Test]
    public async Task With_the_token_it_shows_a_registration_a_park_as_a_lamp_its_retrieve_the_REFER_in_the_ladder_and_the_partners_outage()
    {
        var lab = await StartLabAsync(bothPools: true, replication: true, adminToken: Token);
        Browser.Navigate().GoToUrl(lab.A.AdminUrl!);
        SignIn(Token);
        WaitFor("the live console", () => Browser.FindElement(By.Id("connection")).Text == "live" && Browser.FindElements(By.CssSelector("#orbit-grid .lamp")).Count == 100);
        Assert.That(LampState("7000"), Is.EqualTo("free"));

        var alice = await RegisteredPhoneAsync(lab, "alice");
        var bob = await RegisteredPhoneAsync(lab, "bob");
        var carol = await RegisteredPhoneAsync(lab, "carol");
        WaitFor("alice's registration", () => Browser.FindElements(By.CssSelector("#registration-rows tr[data-aor='sip:alice@callpark.lab']")).Count == 1);
        var row = Browser.FindElement(By.CssSelector("#registration-rows tr[data-aor='sip:alice@callpark.lab']")).FindElements(By.TagName("td"));
        Assert.Multiple(() =>
        {
            Assert.That(row[2].Text, Is.EqualTo("udp"));
            Assert.That(row[3].Text, Is.EqualTo("normal"));
            Assert.That(row[4].Text, Does.EndWith("s"), "the expiry counts down");
        });

        var (aliceCall, _) = await ConnectAsync(alice, bob);
        var d = aliceCall.Dialog;
        var referTo = new NameAddress(LabPhone.Aor("bob").WithHeader(HeaderNames.Replaces, new ReplacesHeader(d.Id.CallId, d.Id.RemoteTag, d.Id.LocalTag).ToString()));
        var parking = alice.Agent.ReferAsync(SipUri.Parse("sip:park@callpark.lab"), referTo, alice.Agent.Identity).WaitAsync(Bound);
        var bobParkLeg = await (await bob.NextIncomingAsync()).AnswerAsync(bob.Sdp);
        Assert.That((await parking).Succeeded, Is.True);
        await WaitUntilAsync(() => lab.A.Park.Parked().Count == 1);
        var lampOn = WaitFor("orbit 7000 lit", () => LampState("7000") == "parked");
        await TestContext.Out.WriteLineAsync($"lamp 7000 lit {lampOn.TotalMilliseconds:0} ms after the pool held the park");
        var lamp = Lamp("7000");
        Assert.Multiple(() =>
        {
            Assert.That(lamp.Text, Does.Contain("parked").And.Contain("bob").And.Contain("alice"), "text, not only colour");
            Assert.That(lamp.GetAttribute("aria-label"), Does.StartWith("Orbit 7000: parked"));
        });
        Screenshot("orbits");

        // Keyboard: one lamp in the tab order, arrows move along the grid, Enter asks before unparking.
        ((IJavaScriptExecutor)Browser).ExecuteScript("document.querySelector(\"#orbit-grid [data-orbit='7000']\").focus()");
        Browser.SwitchTo().ActiveElement().SendKeys(Keys.ArrowRight);
        Assert.That(Browser.SwitchTo().ActiveElement().GetAttribute("data-orbit"), Is.EqualTo("7001"));
        Assert.That(Browser.FindElements(By.CssSelector("#orbit-grid .lamp[tabindex='0']")), Has.Count.EqualTo(1));
        Browser.SwitchTo().ActiveElement().SendKeys(Keys.ArrowLeft);
        Browser.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
        var confirm = Browser.SwitchTo().Alert();
        Assert.That(confirm.Text, Does.StartWith("Unpark orbit 7000?"));
        confirm.Dismiss();
        Assert.That(lab.A.Park.Parked(), Has.Count.EqualTo(1), "dismissed: still parked");

        bobParkLeg.OnRefer = refer => refer.RejectAsync(603);   // retrieved by the bridge
        var carolCall = (await carol.CallAsync(SipUri.Parse("sip:7000@callpark.lab"))).Call!;
        WaitFor("orbit 7000 free again", () => LampState("7000") == "free");

        ScrollTo("ladder");
        WaitFor("the REFER in the ladder", () => Browser.FindElements(By.CssSelector("#ladder-diagram g.msg[data-method='REFER']")).Count > 0);
        WaitFor("the REFER's text", () =>
        {
            Browser.FindElement(By.CssSelector("#ladder-diagram g.msg[data-method='REFER']")).Click();
            return Browser.FindElement(By.Id("ladder-message")).Text.StartsWith("sent to", StringComparison.Ordinal)
                   || Browser.FindElement(By.Id("ladder-message")).Text.StartsWith("received from", StringComparison.Ordinal);
        });
        Assert.That(Browser.FindElement(By.Id("ladder-message")).Text, Does.Contain("REFER sip:park@callpark.lab SIP/2.0").And.Contain("Refer-To:"));
        Screenshot("ladder");

        await lab.StopBAsync();
        ScrollTo("dr");
        WaitFor("pool-b in Outage", () =>
            Browser.FindElement(By.CssSelector("#dr-pools [data-pool='pool-b'] dd.phase")).GetAttribute("data-phase") == "Outage");
        Assert.Multiple(() =>
        {
            Assert.That(Browser.FindElement(By.CssSelector("#dr-pools [data-pool='pool-b'] dd.phase")).Text, Does.Contain("when the outage occurs"));
            Assert.That(Browser.FindElement(By.Id("dr-timeline")).Text, Does.Contain("pool-b: Normal → Outage"));
            Assert.That(Browser.FindElements(By.CssSelector("#dr-pools [data-pool='pool-a']")), Has.Count.EqualTo(1), "both pools side by side");
        });
        Screenshot("dr");
        ScrollTo("registrations");
        Screenshot("registrations");
        ScrollTo("metrics");
        Screenshot("metrics");
        await carolCall.HangUpAsync().WaitAsync(Bound);
    }

    [Test]
    public async Task Markup_in_a_SIP_message_is_shown_as_text_and_never_runs()
    {
        var lab = await StartLabAsync(replication: true, adminToken: Token);
        Browser.Navigate().GoToUrl(lab.A.AdminUrl!);
        SignIn(Token);
        WaitFor("the live console", () => Browser.FindElement(By.Id("connection")).Text == "live");
        WaitFor("the trace stream", () => lab.A.Trace.SubscriberCount == 1);

        using var attacker = new RawSipSocket();
        const string markup = "<img src=x onerror=window.__xss=1>";
        await attacker.SendAsync(attacker.Request("OPTIONS", "sip:callpark.lab", "console-xss-1", null, $"X-Note: {markup}</pre><script>window.__xss=2</script>\r\n",
            from: $"\"{markup}\" <sip:mallory@attacker.example>"), lab.A.SipEndPoint);
        await attacker.FinalAsync(Bound);

        ScrollTo("ladder");
        Browser.FindElement(By.Id("ladder-options")).Click();
        Browser.FindElement(By.Id("ladder-callid")).SendKeys("console-xss-1");
        const string request = "#ladder-diagram g.msg[data-call-id='console-xss-1'][data-method='OPTIONS']";
        WaitFor("the OPTIONS in the ladder", () => Browser.FindElements(By.CssSelector(request)).Count > 0);
        // The probes redraw the ladder several times a second, so a WebDriver click can land on an element a redraw has
        // just replaced: find, click and read the panel in one turn of the page's event loop, until the text is there.
        const string clickAndRead = "const m = document.querySelector(arguments[0]); if (!m) return '';"
                                    + " m.dispatchEvent(new MouseEvent('click', { bubbles: true }));"
                                    + " return document.getElementById('ladder-message').textContent;";
        WaitFor("the message's text", () =>
            ((IJavaScriptExecutor)Browser).ExecuteScript(clickAndRead, request) is string text && text.Contains("X-Note:", StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(Browser.FindElement(By.Id("ladder-message")).Text, Does.Contain(markup), "shown as text");
            Assert.That(Browser.FindElements(By.CssSelector("main img, main script")), Is.Empty, "no element came from the message");
            Assert.That(((IJavaScriptExecutor)Browser).ExecuteScript("return window.__xss === undefined"), Is.True);
        });
    }
}
