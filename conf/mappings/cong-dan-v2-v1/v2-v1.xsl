<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:v1="urn:bo:cong-dan:1"
                xmlns:v2="urn:bo:cong-dan:2"
                exclude-result-prefixes="v2">
  <xsl:output method="xml" encoding="UTF-8"/>

  <xsl:template match="/v2:CongDan">
    <v1:ThongTinCongDan>
      <v1:HoTen>
        <xsl:value-of select="normalize-space(concat(v2:HoVaTen/v2:Ho, ' ', v2:HoVaTen/v2:ChuDem, ' ', v2:HoVaTen/v2:Ten))"/>
      </v1:HoTen>
      <v1:NgaySinh><xsl:value-of select="v2:NgaySinh"/></v1:NgaySinh>
      <v1:GioiTinh>
        <xsl:choose>
          <xsl:when test="v2:MaGioiTinh = 1">Nam</xsl:when>
          <xsl:when test="v2:MaGioiTinh = 2">Nu</xsl:when>
          <xsl:otherwise>
            <xsl:message terminate="yes">MaGioiTinh must be 1 or 2</xsl:message>
          </xsl:otherwise>
        </xsl:choose>
      </v1:GioiTinh>
      <v1:SoCMND><xsl:value-of select="v2:SoDinhDanh"/></v1:SoCMND>
      <v1:DiaChiThuongTru>
        <v1:SoNha><xsl:value-of select="normalize-space(substring-before(v2:NoiThuongTru/v2:DiaChiChiTiet, ','))"/></v1:SoNha>
        <v1:PhuongXa><xsl:value-of select="normalize-space(substring-after(v2:NoiThuongTru/v2:DiaChiChiTiet, ','))"/></v1:PhuongXa>
        <v1:QuanHuyen><xsl:value-of select="v2:NoiThuongTru/v2:QuanHuyen"/></v1:QuanHuyen>
        <v1:TinhThanh><xsl:value-of select="v2:NoiThuongTru/v2:TinhThanhPho"/></v1:TinhThanh>
      </v1:DiaChiThuongTru>
      <xsl:for-each select="v2:QuanHeGiaDinh/v2:ThanhVien">
        <v1:ThanhVien>
          <v1:HoTen><xsl:value-of select="v2:HoVaTen"/></v1:HoTen>
          <v1:QuanHe><xsl:value-of select="v2:MoiQuanHe"/></v1:QuanHe>
        </v1:ThanhVien>
      </xsl:for-each>
    </v1:ThongTinCongDan>
  </xsl:template>
</xsl:stylesheet>
