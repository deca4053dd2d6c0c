using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Strata.Errors;
using Strata.Registry;
using Strata.Storage;

namespace Strata.Tests.Storage;

/// <summary>Disk and database failures are told as one storage line, and never mistaken for network faults.</summary>
public class StorageFaultsTests
{
    private const string Root = "/var/lib/strata";

    [Theory]
    [InlineData(28, "no space left on the store's file system (/var/lib/strata)")]
    [InlineData(122, "disk quota exceeded on the store's file system (/var/lib/strata)")]
    [InlineData(30, "the store's file system (/var/lib/strata) is read-only")]
    [InlineData(5, "I/O error on the store's file system (/var/lib/strata)")]
    public void DiskErrnosAreStorageErrorsThatAreNotRetried(int errno, string expected)
    {
        // As .NET makes them on Unix: the raw errno in HResult, the path after " : '".
        var e = new IOException($"whatever the OS says : '{Root}/ingest/1-abc'", errno);
        var told = StorageFaults.Translate(e, Root);
        Assert.NotNull(told);
        Assert.Equal(ErrorKind.Storage, told.Kind);
        Assert.StartsWith(expected, told.Message, StringComparison.Ordinal);
        Assert.False(RegistryClient.IsTransient(e, CancellationToken.None));
        Assert.False(RegistryClient.IsTransient(told, CancellationToken.None));
    }

    [Fact]
    public void ADiskFaultWrappedByHttpClientIsStillOne()
    {
        // A pushed blob that cannot be read from the store: HttpClient reports a failed request around it.
        var wrapped = new HttpRequestException("Error while copying content to a stream.", new IOException($"Input/output error : '{Root}/blobs/sha256/ab'", 5));
        Assert.False(RegistryClient.IsTransient(wrapped, CancellationToken.None));
        Assert.Equal(ErrorKind.Storage, StorageFaults.Translate(wrapped, Root)?.Kind);
    }

    [Fact]
    public void AFullDiskOutsideTheStoreNamesThePath()
    {
        var told = StorageFaults.Translate(new IOException("No space left on device : '/mnt/out/image.tar'", 28), Root);
        Assert.Equal("no space left on /mnt/out/image.tar: free some space and try again", told?.Message);
    }

    [Fact]
    public void NetworkAndOtherFailuresAreLeftAsTheyAre()
    {
        var cut = new IOException("The response ended prematurely", new SocketException((int)SocketError.ConnectionReset));
        Assert.Null(StorageFaults.Translate(cut, Root));
        Assert.True(RegistryClient.IsTransient(cut, CancellationToken.None));
        Assert.Null(StorageFaults.Translate(new IOException("not a disk errno", 2), Root));
        Assert.Null(StorageFaults.Translate(new InvalidOperationException("x"), Root));
    }

    [Theory]
    [InlineData(13, ErrorKind.Storage, "no space left")]
    [InlineData(8, ErrorKind.Storage, "read-only")]
    [InlineData(5, ErrorKind.Conflict, "the store is busy")]
    [InlineData(6, ErrorKind.Conflict, "the store is busy")]
    public void SqliteCodesBecomeOneLine(int code, ErrorKind kind, string says)
    {
        var told = StorageFaults.Translate(new SqliteException("SQLite Error: raw text", code), Root);
        Assert.NotNull(told);
        Assert.Equal(kind, told.Kind);
        Assert.Contains(says, told.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SQLite", told.Message, StringComparison.Ordinal);
    }
}
