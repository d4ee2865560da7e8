import { describe, expect, it } from '@jest/globals';
import { isPublicAddress } from '../../src/http/address-ranges.js';

// Where a tenant's credential may connect is decided on these verdicts: every form of this machine
// and the networks behind it must read as not public, whatever notation hides it.
describe('isPublicAddress', () => {
  it.each([
    ['0.0.0.0'],
    ['0.1.2.3'],
    ['10.0.0.1'],
    ['100.64.0.1'],
    ['100.127.255.254'],
    ['127.0.0.1'],
    ['127.255.255.254'],
    ['169.254.169.254'],
    ['172.16.0.1'],
    ['172.31.255.255'],
    ['192.0.0.8'],
    ['192.168.1.1'],
    ['198.18.0.1'],
    ['224.0.0.1'],
    ['239.255.255.250'],
    ['240.0.0.1'],
    ['255.255.255.255'],
    ['::'],
    ['::1'],
    ['::ffff:127.0.0.1'],
    ['::ffff:7f00:1'],
    ['::ffff:10.1.2.3'],
    ['::ffff:a9fe:a9fe'],
    ['0:0:0:0:0:ffff:c0a8:0101'],
    ['::127.0.0.1'],
    // IPv4-translated (SIIT, ::ffff:0:0:0/96): not the mapped form, and no global unicast address either.
    ['::ffff:0:7f00:1'],
    ['::ffff:0:a9fe:a9fe'],
    ['0:0:0:0:ffff:0:a00:1'],
    ['64:ff9b::127.0.0.1'],
    ['64:ff9b::a00:1'],
    ['64:ff9b:1::a00:1'],
    ['::ffff:192.168.100.200'],
    ['::ffff:127.0.0.1%eth0'],
    ['::ffff:172.16.254.254'],
    ['2002:7f00:1::'],
    ['2002:c0a8:101::1'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['fc00::1'],
    ['fd12:3456:789a::1'],
    ['fe80::1'],
    ['fe80::1%eth0'],
    ['fec0::1'],
    ['ff02::1'],
    ['100::1'],
    ['2001:db8::1'],
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    ['1.1.1.1'],
    ['8.8.8.8'],
    ['100.63.255.255'],
    ['100.128.0.0'],
    ['172.15.255.255'],
    ['172.32.0.0'],
    ['169.253.255.255'],
    ['126.255.255.255'],
    ['128.0.0.1'],
    ['223.255.255.255'],
    ['11.0.0.1'],
    ['2606:4700::1111'],
    // Forms that look like an IPv4 address inside IPv6 but are not one of those that carry it: judged as IPv6.
    ['2606:4700::ffff:7f00:1'],
    ['1::ffff:a00:1'],
    ['64:ff9a::7f00:1'],
    ['65:ff9b::7f00:1'],
    ['64:fe9b::7f00:1'],
    ['64:ff9b:0:0:1::7f00:1'],
    ['2003:7f00:1::'],
    ['3002:7f00:1::'],
    ['::ffff:100.63.255.255'],
    ['2a00:1450:4001::1'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::808:808'],
    ['2002:808:808::1'],
  ])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('a host name, an empty string or a bracketed form is not an address, so not public', () => {
    for (const text of ['localhost', 'api2.frontapp.com', '', '[::1]', '127.0.0.1.nip.io', '0x7f000001'])
      expect(isPublicAddress(text)).toBe(false);
  });
});
