using System.Globalization;
using System.Text;

namespace Ingot.Runtime.Chat;

/// <summary>C strftime in the "C" locale (what llama.cpp's strftime_now uses via std::put_time).</summary>
public static class Strftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTime t, string format)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length) { sb.Append(c); continue; }
            char f = format[++i];
            if (f is '-' && i + 1 < format.Length)
            {
                // glibc extension: %-d etc. (no padding)
                char g = format[++i];
                sb.Append(g switch
                {
                    'd' => t.Day.ToString(inv),
                    'm' => t.Month.ToString(inv),
                    'H' => t.Hour.ToString(inv),
                    'I' => Hour12(t).ToString(inv),
                    'M' => t.Minute.ToString(inv),
                    'S' => t.Second.ToString(inv),
                    'j' => t.DayOfYear.ToString(inv),
                    _ => "%-" + g,
                });
                continue;
            }
            sb.Append(f switch
            {
                'a' => Days[(int)t.DayOfWeek][..3],
                'A' => Days[(int)t.DayOfWeek],
                'b' or 'h' => Months[t.Month - 1][..3],
                'B' => Months[t.Month - 1],
                'c' => Format(t, "%a %b %e %H:%M:%S %Y"),
                'C' => (t.Year / 100).ToString("00", inv),
                'd' => t.Day.ToString("00", inv),
                'D' => Format(t, "%m/%d/%y"),
                'e' => t.Day.ToString(inv).PadLeft(2),
                'F' => Format(t, "%Y-%m-%d"),
                'H' => t.Hour.ToString("00", inv),
                'I' => Hour12(t).ToString("00", inv),
                'j' => t.DayOfYear.ToString("000", inv),
                'm' => t.Month.ToString("00", inv),
                'M' => t.Minute.ToString("00", inv),
                'n' => "\n",
                'p' => t.Hour < 12 ? "AM" : "PM",
                'R' => Format(t, "%H:%M"),
                'S' => t.Second.ToString("00", inv),
                't' => "\t",
                'T' => Format(t, "%H:%M:%S"),
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(inv),
                'w' => ((int)t.DayOfWeek).ToString(inv),
                'x' => Format(t, "%m/%d/%y"),
                'X' => Format(t, "%H:%M:%S"),
                'y' => (t.Year % 100).ToString("00", inv),
                'Y' => t.Year.ToString(inv),
                'Z' => t.Kind == DateTimeKind.Local ? TimeZoneInfo.Local.StandardName : "UTC",
                'z' => t.Kind == DateTimeKind.Local ? FormatOffset(TimeZoneInfo.Local.GetUtcOffset(t)) : "+0000",
                '%' => "%",
                _ => "%" + f,
            });
        }
        return sb.ToString();
    }

    private static int Hour12(DateTime t) => t.Hour % 12 == 0 ? 12 : t.Hour % 12;

    private static string FormatOffset(TimeSpan o) =>
        (o < TimeSpan.Zero ? "-" : "+") + Math.Abs(o.Hours).ToString("00", CultureInfo.InvariantCulture) + Math.Abs(o.Minutes).ToString("00", CultureInfo.InvariantCulture);
}
