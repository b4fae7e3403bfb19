namespace BioModel.Core;

/// <summary>The errno values the modelled functions return (as negative numbers, like the kernel).</summary>
public static class Errno
{
    public const long EIO = 5;
    public const long ENOMEM = 12;
    public const long EFAULT = 14;
    public const long EINVAL = 22;
    public const long EOVERFLOW = 75;
    public const long EREMOTEIO = 121;

    /// <summary>"-EFAULT" for −14, otherwise null.</summary>
    public static string? Name(long ret) => ret switch
    {
        -EIO => "-EIO",
        -ENOMEM => "-ENOMEM",
        -EFAULT => "-EFAULT",
        -EINVAL => "-EINVAL",
        -EOVERFLOW => "-EOVERFLOW",
        -EREMOTEIO => "-EREMOTEIO",
        _ => null,
    };
}

/// <summary>Limits of include/linux/bio.h and bvec.h (KERNEL-SPEC §1.1).</summary>
public static class BioLimits
{
    /// <summary>BIO_MAX_SIZE = UINT_MAX, the largest value bi_iter.bi_size can hold (fa0bdd45d7e3).</summary>
    public const uint BioMaxSize = uint.MaxValue;
    public const ushort BioMaxVecs = 256;
    public const ushort BioInlineVecs = 4;
}
